-- A model_attempts row may change after its insert: when the worker that made a call was cut off
-- from Temporal but not from Postgres, its retry writes a no-result row for the call ("worker lost
-- during the call") and the call's real row, arriving later under the same attempt key, replaces
-- it in place (activities/model.ts). These triggers keep attempt_rollups equal to what
-- rebuild_attempt_rollups() computes across any UPDATE of a column a rollup is made of, and across
-- a DELETE: the old row's share leaves the rollup of its day and the new row's joins the rollup of
-- its own (the two rows may fall on different UTC days). An update of other columns, such as the
-- validation's valid, issues, fixes and validated_at, fires nothing. A rollup left with no call is
-- removed, as a rebuild would not have it. TRUNCATE is not followed: rebuild after one.
CREATE FUNCTION hist_scale(h bigint[], k integer) RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE out bigint[] := coalesce(h, array_fill(0::bigint, ARRAY[60]));
BEGIN
  FOR i IN 1..60 LOOP out[i] := coalesce(out[i], 0) * k; END LOOP;
  RETURN out;
END $$;
--> statement-breakpoint
-- adds one row's share to its rollup (k = 1), or takes it away (k = -1), as rollup_attempt() adds an inserted row's
CREATE FUNCTION rollup_add(a model_attempts, k integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE d date := (a.created_at AT TIME ZONE 'UTC')::date;
BEGIN
  INSERT INTO attempt_rollups AS r (day, pipeline, task, pool, model, kind, calls, failed_calls, prompt_tokens, completion_tokens,
    estimated_token_calls, cost_usd, reference_cost_usd, latency_hist, ttft_hist)
  VALUES (d, a.pipeline, a.task, a.pool, a.model, a.kind,
    k * (a.error IS NULL)::int, k * (a.error IS NOT NULL)::int, k * a.prompt_tokens, k * a.completion_tokens,
    k * (a.tokens_estimated AND a.error IS NULL)::int, k * a.cost_usd, k * a.reference_cost_usd,
    hist_scale(CASE WHEN a.error IS NULL THEN hist_of(a.latency_ms) ELSE hist_of(NULL) END, k),
    hist_scale(CASE WHEN a.error IS NULL THEN hist_of(a.ttft_ms) ELSE hist_of(NULL) END, k))
  ON CONFLICT (day, pipeline, task, pool, model, kind) DO UPDATE SET
    calls = r.calls + EXCLUDED.calls,
    failed_calls = r.failed_calls + EXCLUDED.failed_calls,
    prompt_tokens = r.prompt_tokens + EXCLUDED.prompt_tokens,
    completion_tokens = r.completion_tokens + EXCLUDED.completion_tokens,
    estimated_token_calls = r.estimated_token_calls + EXCLUDED.estimated_token_calls,
    cost_usd = r.cost_usd + EXCLUDED.cost_usd,
    reference_cost_usd = r.reference_cost_usd + EXCLUDED.reference_cost_usd,
    latency_hist = hist_add(r.latency_hist, EXCLUDED.latency_hist),
    ttft_hist = hist_add(r.ttft_hist, EXCLUDED.ttft_hist);
  IF k < 0 THEN
    DELETE FROM attempt_rollups
    WHERE day = d AND pipeline = a.pipeline AND task = a.task AND pool = a.pool AND model = a.model AND kind = a.kind
      AND calls = 0 AND failed_calls = 0;
  END IF;
END $$;
--> statement-breakpoint
CREATE FUNCTION rollup_attempt_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM rollup_add(OLD, -1);
  -- two rollups are changed in the order of their keys, so that two updates crossing the same two never wait on each other;
  -- within one rollup the new share goes in first, so it is not removed and made again
  ELSIF ((OLD.created_at AT TIME ZONE 'UTC')::date, OLD.pipeline, OLD.task, OLD.pool, OLD.model, OLD.kind)
      < ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.pipeline, NEW.task, NEW.pool, NEW.model, NEW.kind) THEN
    PERFORM rollup_add(OLD, -1);
    PERFORM rollup_add(NEW, 1);
  ELSE
    PERFORM rollup_add(NEW, 1);
    PERFORM rollup_add(OLD, -1);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER model_attempts_rollup_update
  AFTER UPDATE OF created_at, pipeline, task, pool, model, kind, error, prompt_tokens, completion_tokens, tokens_estimated,
    cost_usd, reference_cost_usd, latency_ms, ttft_ms ON model_attempts
  FOR EACH ROW
  WHEN (((OLD.created_at AT TIME ZONE 'UTC')::date, OLD.pipeline, OLD.task, OLD.pool, OLD.model, OLD.kind, OLD.error IS NULL,
      OLD.prompt_tokens, OLD.completion_tokens, OLD.tokens_estimated, OLD.cost_usd, OLD.reference_cost_usd, OLD.latency_ms, OLD.ttft_ms)
    IS DISTINCT FROM ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.pipeline, NEW.task, NEW.pool, NEW.model, NEW.kind, NEW.error IS NULL,
      NEW.prompt_tokens, NEW.completion_tokens, NEW.tokens_estimated, NEW.cost_usd, NEW.reference_cost_usd, NEW.latency_ms, NEW.ttft_ms))
  EXECUTE FUNCTION rollup_attempt_change();
--> statement-breakpoint
CREATE TRIGGER model_attempts_rollup_delete AFTER DELETE ON model_attempts FOR EACH ROW EXECUTE FUNCTION rollup_attempt_change();
