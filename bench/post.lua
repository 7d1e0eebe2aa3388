-- wrk script for the bench: the same non-streaming chat request for every contender.
-- "mock/gpt-4o" routes to the gateway's "mock" provider; the baseline strips the prefix and the
-- mock upstream ignores the model.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"mock/gpt-4o","messages":[{"role":"system","content":"You are terse."},' ..
  '{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":64,"temperature":0}'
