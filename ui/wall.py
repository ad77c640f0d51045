"""The wall view: a journey's Live figures full screen, in type readable across a room.

One `st.components.v2` component holds the whole board, so its DOM lives across refreshes: a new score
counts up from the old one, a changed card glows for a moment, and when the connection to the server drops
the last figures stay where they are with a "reconnecting" mark (the component's own clock notices that no
update came). Every text from Qualtrics, respondents or users reaches the page through ``textContent`` only,
never as HTML.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import segno
import streamlit as st

from ui import cards
from workspace.live import JourneyView

#: Hides Streamlit's own chrome on the wall and keeps elements at full strength while a rerun is pending
#: (Streamlit fades "stale" elements, which on a wall reads as a flicker every refresh).
CHROME_STYLE = """<style>
header[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stDecoration"], footer { display: none !important; }
[data-testid="stMainBlockContainer"] { padding: 1.2rem 2rem 1rem !important; max-width: none !important; }
[data-stale="true"] { opacity: 1 !important; transition: none !important; }
</style>"""

_CSS = """
.jp-wall { font-family: inherit; color: var(--st-text-color, inherit); line-height: 1.15; }
.jp-wall .top { display: flex; align-items: baseline; gap: 2rem; justify-content: space-between; margin-bottom: 1rem; }
.jp-wall h1 { font-size: 3.4rem; margin: 0; font-weight: 700; }
.jp-wall .answered { font-size: 2.6rem; font-weight: 600; white-space: nowrap; }
.jp-wall .answered .count { font-variant-numeric: tabular-nums; }
.jp-wall .status { font-size: 1.5rem; padding: .3rem .9rem; border-radius: 999px; white-space: nowrap;
  border: 2px solid currentColor; opacity: .85; }
.jp-wall .status.reconnecting { color: #E69F00; opacity: 1; }
.jp-wall .status.frozen { color: #D55E00; opacity: 1; }
.jp-wall .banner { font-size: 1.7rem; padding: .8rem 1.2rem; border-radius: .6rem; margin-bottom: 1rem;
  border-left: .5rem solid #D55E00; background: rgba(213, 94, 0, .12); }
.jp-wall .banner:empty { display: none; }
.jp-wall .body { display: grid; grid-template-columns: minmax(0, 1fr) 26rem; gap: 2rem; align-items: start; }
.jp-wall .surveys { display: grid; grid-template-columns: 1fr; gap: 1rem; }
.jp-wall .surveys.many { grid-template-columns: 1fr 1fr; }
.jp-wall .surveys.many .link { font-size: 1.1rem; }
.jp-wall .surveys.many .name { font-size: 1.3rem; }
.jp-wall .steps { display: grid; grid-template-columns: repeat(auto-fill, minmax(25rem, 1fr)); gap: 1.2rem; }
.jp-wall .card { border-radius: .8rem; padding: 1rem 1.3rem; border-left: .7rem solid #999;
  background: var(--st-secondary-background-color, rgba(127, 127, 127, .1));
  transition: box-shadow 1.2s ease, border-color 1s ease; }
.jp-wall .card.changed { box-shadow: 0 0 0 .35rem rgba(86, 180, 233, .75); }
.jp-wall .where { font-size: 1.5rem; opacity: .8; }
.jp-wall .title { font-size: 1.9rem; font-weight: 600; margin: .2rem 0 .3rem; overflow-wrap: anywhere; }
.jp-wall .score { font-size: 6.2rem; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.05; }
.jp-wall .score.hidden { font-size: 2.4rem; font-weight: 600; padding: 1.6rem 0; opacity: .85; }
.jp-wall .meta { font-size: 1.5rem; opacity: .85; }
.jp-wall .side { display: flex; flex-direction: column; gap: 1.2rem; max-height: calc(100vh - 8rem);
  overflow: hidden; }  /* a wall never scrolls: older comments fall off the bottom */
.jp-wall .survey { text-align: center; }
.jp-wall .survey img { width: 100%; max-width: 22rem; background: #fff; border-radius: .5rem; display: block;
  margin: 0 auto; image-rendering: pixelated; }
.jp-wall .survey .name { font-size: 1.5rem; font-weight: 600; margin-top: .4rem; }
.jp-wall .survey .link { font-size: 1.35rem; overflow-wrap: anywhere; opacity: .9; }
.jp-wall .survey .n { font-size: 1.5rem; }
.jp-wall .comments h2 { font-size: 1.8rem; margin: .3rem 0 .6rem; }
.jp-wall .comment { font-size: 1.45rem; padding: .6rem .9rem; margin-bottom: .6rem; border-radius: .5rem;
  background: var(--st-secondary-background-color, rgba(127, 127, 127, .1)); white-space: pre-wrap;
  overflow-wrap: anywhere; }
.jp-wall .comment .when { display: block; font-size: 1.1rem; opacity: .75; margin-top: .2rem; }
.jp-wall .empty { font-size: 2rem; opacity: .8; }
"""

_JS = """
const TIME = { hour: '2-digit', minute: '2-digit' };
const LONG_TIME = { hour: '2-digit', minute: '2-digit', second: '2-digit' };

function el(tag, cls, parent) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (parent) parent.appendChild(node);
  return node;
}

function parts(display) {  // "71.3%" -> {num: 71.3, decimals: 1, before: "", after: "%"}
  const m = /^([^0-9-]*)(-?[0-9][0-9,]*(?:\\.[0-9]+)?)(.*)$/.exec(display || '');
  if (!m) return null;
  const digits = m[2].replace(/,/g, '');
  const dot = digits.indexOf('.');
  return { num: parseFloat(digits), decimals: dot < 0 ? 0 : digits.length - dot - 1, before: m[1], after: m[3],
           grouped: m[2].includes(',') };
}

function countTo(node, display, previous) {
  // Count up (or down) from the figure shown before to the new one; text only, never HTML.
  const to = parts(display), from = parts(previous);
  if (node.__anim) cancelAnimationFrame(node.__anim);
  if (!to || !from || from.num === to.num || previous === undefined) { node.textContent = display; return; }
  const start = performance.now(), span = 900;
  const step = (now) => {
    const t = Math.min(1, (now - start) / span), eased = 1 - Math.pow(1 - t, 3);
    const value = from.num + (to.num - from.num) * eased;
    let text = value.toFixed(to.decimals);
    if (to.grouped) text = Number(text).toLocaleString('en-US', { minimumFractionDigits: to.decimals });
    node.textContent = t < 1 ? to.before + text + to.after : display;
    if (t < 1) node.__anim = requestAnimationFrame(step);
  };
  node.__anim = requestAnimationFrame(step);
}

function keyed(container, items, key, make, update) {
  // Keep one node per key across refreshes so that transitions and count-ups have something to run on.
  const old = new Map();
  for (const child of Array.from(container.children)) old.set(child.dataset.key, child);
  items.forEach((item, i) => {
    let node = old.get(key(item));
    if (!node) { node = make(item); node.dataset.key = key(item); }
    old.delete(key(item));
    if (container.children[i] !== node) container.insertBefore(node, container.children[i] || null);
    update(node, item);
  });
  for (const gone of old.values()) gone.remove();
}

function local(iso, options) {
  return iso ? new Date(iso).toLocaleTimeString([], options) : '';
}

function render(root, data) {
  const s = root.__state;
  s.last = Date.now();
  s.renders = (s.renders || []).slice(-119).concat([s.last]);  // when updates came (the benchmark reads them)
  s.data = data;
  s.answeredLog = s.answeredLog || [];  // (time, answered) whenever the count moved: the benchmark reads it
  if (!s.answeredLog.length || s.answeredLog[s.answeredLog.length - 1][1] !== data.answered)
    s.answeredLog = s.answeredLog.slice(-199).concat([[s.last, data.answered]]);
  root.querySelector('h1').textContent = data.title;
  const count = root.querySelector('.answered .count');
  countTo(count, String(data.answered), s.answered);
  s.answered = String(data.answered);
  root.querySelector('.answered .since').textContent = ' answered since ' + local(data.started, TIME);
  root.querySelector('.banner').textContent = data.frozen || '';
  status(root);

  const hidden = data.hide_until > 0 && data.answered < data.hide_until;
  const steps = root.querySelector('.steps');
  keyed(steps, data.cards, (c) => c.key, (c) => {
    const card = el('div', 'card');
    el('div', 'where', card); el('div', 'title', card); el('div', 'score', card); el('div', 'meta', card);
    return card;
  }, (card, c) => {
    card.style.borderLeftColor = c.colour;
    card.querySelector('.where').textContent = c.where;
    card.querySelector('.title').textContent = c.title;
    card.querySelector('.meta').textContent = c.meta;
    const score = card.querySelector('.score');
    score.classList.toggle('hidden', hidden);
    if (hidden) {
      score.textContent = 'Scores at ' + data.hide_until + ' answers';
      card.__shown = undefined;
    } else {
      if (card.__shown !== undefined && card.__shown !== c.display) {
        card.classList.add('changed');
        clearTimeout(card.__glow);
        card.__glow = setTimeout(() => card.classList.remove('changed'), 1600);
      }
      countTo(score, c.display, card.__shown);
      card.__shown = c.display;
    }
  });
  root.querySelector('.empty').textContent = data.cards.length ? '' : data.empty;

  const panels = root.querySelector('.surveys');
  panels.classList.toggle('many', data.surveys.length > 2);
  keyed(panels, data.surveys, (v) => v.id, (v) => {
    const box = el('div', 'survey');
    el('img', '', box); el('div', 'name', box); el('div', 'link', box);
    const n = el('div', 'n', box); el('span', 'count', n); el('span', 'label', n);
    return box;
  }, (box, v) => {
    const img = box.querySelector('img');
    if (img.getAttribute('src') !== v.qr) img.setAttribute('src', v.qr);
    img.setAttribute('alt', 'QR code for ' + v.link);
    box.dataset.survey = v.id;
    box.querySelector('.name').textContent = v.name;
    box.querySelector('.link').textContent = v.short;
    const c = box.querySelector('.n .count');
    countTo(c, String(v.answered), box.__answered);
    box.__answered = String(v.answered);
    box.querySelector('.n .label').textContent = v.answered === 1 ? ' answer' : ' answers';
  });

  const comments = root.querySelector('.comments');
  comments.querySelector('h2').textContent = data.comments.length ? 'Latest comments' : '';
  keyed(comments.querySelector('.list'), data.comments, (m) => m.key, () => {
    const box = el('div', 'comment');
    el('span', 'text', box); el('span', 'when', box);
    return box;
  }, (box, m) => {
    box.querySelector('.text').textContent = m.text;
    box.querySelector('.when').textContent = m.where + (m.when ? ' · ' + local(m.when, TIME) : '');
  });
}

function status(root) {
  const s = root.__state, data = s.data;
  if (!data) return;
  const pill = root.querySelector('.status');
  const late = Date.now() - s.last > Math.max(6000, data.refresh_seconds * 3000);
  pill.classList.toggle('reconnecting', late);
  pill.classList.toggle('frozen', !late && !!data.frozen);
  if (late) pill.textContent = 'Reconnecting… figures of ' + local(data.computed, LONG_TIME);
  else pill.textContent = data.frozen ? 'Frozen' : data.mode;
}

export default function (component) {
  const { data, parentElement } = component;
  let root = parentElement.querySelector('.jp-wall');
  if (!root) {
    root = el('div', 'jp-wall', parentElement);
    root.dataset.testid = 'live-wall';
    const top = el('div', 'top', root);
    el('h1', '', top);
    const answered = el('div', 'answered', top);
    answered.dataset.testid = 'wall-answered';
    el('span', 'count', answered); el('span', 'since', answered);
    el('div', 'status', top);
    el('div', 'banner', root);
    const body = el('div', 'body', root);
    const main = el('div', '', body);
    el('div', 'steps', main); el('div', 'empty', main);
    const side = el('div', 'side', body);
    el('div', 'surveys', side);
    const comments = el('div', 'comments', side);
    el('h2', '', comments); el('div', 'list', comments);
    root.__state = { last: Date.now() };
    const clock = setInterval(() => { if (!root.isConnected) clearInterval(clock); else status(root); }, 1000);
  }
  if (data) render(root, data);
}
"""

_component = st.components.v2.component("journey_pulse.live_wall", html="", css=_CSS, js=_JS, isolate_styles=False)


@functools.lru_cache(maxsize=256)
def qr_data_uri(link: str) -> str:
    """The QR code of a link as an SVG data URI (sharp at any size, black on white for every camera)."""
    return segno.make(link, error="m").svg_data_uri(dark="#000000", light="#ffffff", border=2)


def board_data(view: JourneyView, *, hide_until: int, refresh_seconds: float, comments: int = 4) -> dict[str, Any]:
    """The component's data: plain values only (the JavaScript writes them as text)."""
    tiles = []
    for step in view.steps:
        for card in step.cards:
            feel = cards.tone(card)
            low = " · low confidence" if card.low_confidence and card.score.value is not None else ""
            tiles.append({"key": f"{step.stage}\u203a{step.step}\u203a{card.metric_id}",
                          "where": f"{step.stage} › {step.step}", "title": card.title, "display": card.display,
                          "meta": f"{card.type_name} · {card.n_display} · {feel}{low}",
                          "colour": cards.WALL_COLOURS[feel]})
    modes = {f.mode for f in view.feeds}
    mode = "Live · instant" if modes == {"push"} else "Live · every few seconds" if modes else "Live"
    frozen = view.frozen
    return {
        "title": view.title, "started": view.started, "answered": view.answered, "computed": view.computed,
        "beat": time.time(),  # changes every refresh, so the screen knows the server is still there
        "mode": mode, "frozen": frozen.note if frozen else "", "hide_until": int(hide_until),
        "refresh_seconds": refresh_seconds, "cards": tiles,
        "empty": "No metrics on this journey's steps yet. Place metrics on steps in Journeys.",
        "surveys": [{"id": s.survey_id, "name": s.name, "link": s.link, "short": s.short_link,
                     "answered": s.answered, "qr": qr_data_uri(s.link)} for s in view.surveys],
        "comments": [{"key": f"{c.survey_id}:{c.recorded_date}:{i}:{hash(c.text)}", "text": c.text,
                      "where": " · ".join(p for p in (c.survey_name, ", ".join(c.steps)) if p),
                      "when": c.recorded_date} for i, c in enumerate(view.comments[:comments])],
    }


def wall_board(view: JourneyView, *, hide_until: int, refresh_seconds: float) -> None:
    _component(data=board_data(view, hide_until=hide_until, refresh_seconds=refresh_seconds), key="live_wall")
