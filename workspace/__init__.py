"""Journey Pulse's domain: journeys, metrics, stored answers and their scores, the Qualtrics connection,
the sync engine, the background worker and the workspace command line.

Pages call only these modules; every public function takes the effective :class:`workspace.config.Settings`
first and opens its own database connection (never shared across threads). Main entry points:

- ``config.Settings.load``; ``bootstrap.runtime()`` (settings + embedded sandbox + worker, once per process)
- ``connection``: integration_status, enable, begin_authorization, complete_authorization, disconnect, open_client
- ``journeys``: create_journey, list_journeys, get_journey, add_stage/add_step, move_*, place_metric …
- ``metrics``: create_metric, list_metrics, update_metric (mapping, target, direction), delete_metric
- ``scores``: metric_cards, journey_lane, journey_scores, trend, distribution, responses, metric_detail
- ``sync``: sync_survey, sync_metric, sync_all;  ``jobs``: the sync claims;  ``worker``: run, ensure_worker
"""
