"""Rate limits: the token bucket, the Front and OpenAI budgets, the retry policy, the bound.

`bucket` is the FIFO aiolimiter bucket with pauses and re-sync; `budgets` turns each
API's headers and 429s into bucket operations; `retry` classifies delays and retries
once, in one layer; `bound` computes the fastest a run could have gone.
"""
