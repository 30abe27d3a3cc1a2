"""Backfills through the OpenAI Batch API (`scan --openai-batch`, `frontscan batches`).

`lines` (pure: JSONL lines, splitting, result lines), `api` (the Files and Batches
endpoints), `submit` (the scan's calls that can wait become batches), `collect`
(finished batches checked and committed once), `side` (both, for one scan), `report`
(how they are shown) and `command` (`frontscan batches`). The ledger's tables and
queries are `ledger/batches.py`.
"""
