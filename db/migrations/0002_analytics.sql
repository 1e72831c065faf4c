-- Analytics: a trigger keeps daily rollups of model_attempts; the views read the rollups,
-- so they answer in milliseconds at millions of attempts. Each view has a *_since(date)
-- function behind it for a time window (day granularity). Failed calls cost nothing and
-- are counted apart. Latency percentiles are interpolated within log buckets (±12%).
CREATE FUNCTION latency_bucket(ms integer) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN ms IS NULL THEN NULL WHEN ms <= 10 THEN 0 ELSE least(59, ceil(ln(ms / 10.0) / ln(1.25))::int) END
$$;
--> statement-breakpoint
CREATE FUNCTION hist_of(ms integer) RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE h bigint[] := array_fill(0::bigint, ARRAY[60]); b integer := latency_bucket(ms);
BEGIN
  IF b IS NOT NULL THEN h[b + 1] := 1; END IF;
  RETURN h;
END $$;
--> statement-breakpoint
CREATE FUNCTION hist_add(a bigint[], b bigint[]) RETURNS bigint[] LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE out bigint[] := coalesce(a, array_fill(0::bigint, ARRAY[60]));
BEGIN
  IF b IS NULL THEN RETURN out; END IF;
  FOR i IN 1..60 LOOP out[i] := coalesce(out[i], 0) + coalesce(b[i], 0); END LOOP;
  RETURN out;
END $$;
--> statement-breakpoint
CREATE AGGREGATE hist_sum(bigint[]) (SFUNC = hist_add, STYPE = bigint[]);
--> statement-breakpoint
CREATE FUNCTION hist_percentile(h bigint[], q double precision) RETURNS double precision LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE total bigint := 0; cum bigint := 0; target double precision; lo double precision; hi double precision;
BEGIN
  IF h IS NULL THEN RETURN NULL; END IF;
  FOR i IN 1..60 LOOP total := total + coalesce(h[i], 0); END LOOP;
  IF total = 0 THEN RETURN NULL; END IF;
  target := q * total;
  FOR i IN 1..60 LOOP
    IF coalesce(h[i], 0) > 0 AND cum + h[i] >= target THEN
      lo := CASE WHEN i = 1 THEN 0 ELSE 10 * power(1.25, i - 2) END;
      hi := 10 * power(1.25, i - 1);
      RETURN round((lo + (hi - lo) * (target - cum) / h[i])::numeric, 1);
    END IF;
    cum := cum + coalesce(h[i], 0);
  END LOOP;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION rollup_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO attempt_rollups AS r (day, pipeline, task, pool, model, kind, calls, failed_calls, prompt_tokens, completion_tokens,
    estimated_token_calls, cost_usd, reference_cost_usd, latency_hist, ttft_hist)
  VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.pipeline, NEW.task, NEW.pool, NEW.model, NEW.kind,
    (NEW.error IS NULL)::int, (NEW.error IS NOT NULL)::int, NEW.prompt_tokens, NEW.completion_tokens,
    (NEW.tokens_estimated AND NEW.error IS NULL)::int, NEW.cost_usd, NEW.reference_cost_usd,
    CASE WHEN NEW.error IS NULL THEN hist_of(NEW.latency_ms) ELSE hist_of(NULL) END,
    CASE WHEN NEW.error IS NULL THEN hist_of(NEW.ttft_ms) ELSE hist_of(NULL) END)
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
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER model_attempts_rollup AFTER INSERT ON model_attempts FOR EACH ROW EXECUTE FUNCTION rollup_attempt();
--> statement-breakpoint
CREATE FUNCTION rebuild_attempt_rollups() RETURNS void LANGUAGE sql AS $$
  DELETE FROM attempt_rollups;
  INSERT INTO attempt_rollups (day, pipeline, task, pool, model, kind, calls, failed_calls, prompt_tokens, completion_tokens,
    estimated_token_calls, cost_usd, reference_cost_usd, latency_hist, ttft_hist)
  SELECT (created_at AT TIME ZONE 'UTC')::date, pipeline, task, pool, model, kind,
    count(*) FILTER (WHERE error IS NULL), count(*) FILTER (WHERE error IS NOT NULL), sum(prompt_tokens), sum(completion_tokens),
    count(*) FILTER (WHERE tokens_estimated AND error IS NULL), sum(cost_usd), sum(reference_cost_usd),
    hist_sum(hist_of(CASE WHEN error IS NULL THEN latency_ms END)), hist_sum(hist_of(CASE WHEN error IS NULL THEN ttft_ms END))
  FROM model_attempts GROUP BY 1, 2, 3, 4, 5, 6;
$$;
--> statement-breakpoint
SELECT rebuild_attempt_rollups();
--> statement-breakpoint
CREATE INDEX task_results_created_idx ON task_results (created_at);
--> statement-breakpoint
CREATE INDEX pipeline_runs_started_idx ON pipeline_runs (started_at);
--> statement-breakpoint
CREATE FUNCTION cost_per_task_since(since date) RETURNS TABLE (
  task text, results bigint, valid_results bigint, calls bigint, failed_calls bigint, repair_calls bigint, escalation_calls bigint,
  prompt_tokens bigint, completion_tokens bigint, cost_usd double precision, reference_cost_usd double precision,
  savings_usd double precision, cost_per_result_usd double precision
) LANGUAGE sql STABLE AS $$
  WITH a AS (
    SELECT task, sum(calls)::bigint AS calls, sum(failed_calls)::bigint AS failed_calls,
      sum(calls) FILTER (WHERE kind = 'repair')::bigint AS repair_calls,
      sum(calls) FILTER (WHERE kind = 'escalate')::bigint AS escalation_calls,
      sum(prompt_tokens)::bigint AS prompt_tokens, sum(completion_tokens)::bigint AS completion_tokens,
      sum(cost_usd) AS cost_usd, sum(reference_cost_usd) AS reference_cost_usd
    FROM attempt_rollups WHERE day >= since GROUP BY task
  ), r AS (
    SELECT task, count(*) AS results, count(*) FILTER (WHERE status = 'valid') AS valid_results
    FROM task_results WHERE created_at >= (since::timestamp AT TIME ZONE 'UTC') GROUP BY task
  )
  SELECT a.task, coalesce(r.results, 0), coalesce(r.valid_results, 0), a.calls, a.failed_calls, coalesce(a.repair_calls, 0),
    coalesce(a.escalation_calls, 0), a.prompt_tokens, a.completion_tokens, a.cost_usd, a.reference_cost_usd,
    a.reference_cost_usd - a.cost_usd, a.cost_usd / nullif(r.results, 0)
  FROM a LEFT JOIN r USING (task) ORDER BY a.cost_usd DESC
$$;
--> statement-breakpoint
CREATE VIEW cost_per_task AS SELECT * FROM cost_per_task_since('-infinity');
--> statement-breakpoint
CREATE FUNCTION cost_per_pipeline_since(since date) RETURNS TABLE (
  pipeline text, runs bigint, completed bigint, partial bigint, failed bigint, calls bigint,
  cost_usd double precision, reference_cost_usd double precision, savings_usd double precision, cost_per_run_usd double precision
) LANGUAGE sql STABLE AS $$
  SELECT pipeline, count(*), count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'partial'),
    count(*) FILTER (WHERE status = 'failed'), sum(attempts)::bigint, sum(cost_usd), sum(reference_cost_usd),
    sum(reference_cost_usd) - sum(cost_usd), avg(cost_usd) FILTER (WHERE status <> 'running')
  FROM pipeline_runs WHERE started_at >= (since::timestamp AT TIME ZONE 'UTC') GROUP BY pipeline ORDER BY sum(cost_usd) DESC
$$;
--> statement-breakpoint
CREATE VIEW cost_per_pipeline AS SELECT * FROM cost_per_pipeline_since('-infinity');
--> statement-breakpoint
CREATE FUNCTION cost_per_model_since(since date) RETURNS TABLE (
  pool text, model text, calls bigint, failed_calls bigint, prompt_tokens bigint, completion_tokens bigint,
  estimated_token_calls bigint, cost_usd double precision, reference_cost_usd double precision,
  p50_latency_ms double precision, p95_latency_ms double precision
) LANGUAGE sql STABLE AS $$
  SELECT pool, model, sum(calls)::bigint, sum(failed_calls)::bigint, sum(prompt_tokens)::bigint, sum(completion_tokens)::bigint,
    sum(estimated_token_calls)::bigint, sum(cost_usd), sum(reference_cost_usd),
    hist_percentile(hist_sum(latency_hist), 0.5), hist_percentile(hist_sum(latency_hist), 0.95)
  FROM attempt_rollups WHERE day >= since GROUP BY pool, model ORDER BY sum(cost_usd) DESC
$$;
--> statement-breakpoint
CREATE VIEW cost_per_model AS SELECT * FROM cost_per_model_since('-infinity');
--> statement-breakpoint
CREATE VIEW cost_per_day AS
SELECT day, pipeline, task, sum(calls)::bigint AS calls, sum(failed_calls)::bigint AS failed_calls,
  sum(prompt_tokens)::bigint AS prompt_tokens, sum(completion_tokens)::bigint AS completion_tokens,
  sum(cost_usd) AS cost_usd, sum(reference_cost_usd) AS reference_cost_usd
FROM attempt_rollups GROUP BY day, pipeline, task;
--> statement-breakpoint
CREATE FUNCTION repair_rates_since(since date) RETURNS TABLE (
  task text, results bigint, avg_attempts double precision, first_try_valid_rate double precision, repair_rate double precision,
  escalation_rate double precision, valid_rate double precision, partial_rate double precision, failure_rate double precision
) LANGUAGE sql STABLE AS $$
  SELECT task, count(*), avg(attempts)::double precision,
    (count(*) FILTER (WHERE attempts = 1 AND status = 'valid'))::double precision / count(*),
    (count(*) FILTER (WHERE repairs > 0))::double precision / count(*),
    (count(*) FILTER (WHERE escalations > 0))::double precision / count(*),
    (count(*) FILTER (WHERE status = 'valid'))::double precision / count(*),
    (count(*) FILTER (WHERE status = 'partial'))::double precision / count(*),
    (count(*) FILTER (WHERE status = 'failed'))::double precision / count(*)
  FROM task_results WHERE created_at >= (since::timestamp AT TIME ZONE 'UTC') GROUP BY task ORDER BY task
$$;
--> statement-breakpoint
CREATE VIEW repair_rates AS SELECT * FROM repair_rates_since('-infinity');
--> statement-breakpoint
CREATE FUNCTION latency_per_task_since(since date) RETURNS TABLE (
  task text, pool text, calls bigint, p50_latency_ms double precision, p95_latency_ms double precision, p50_ttft_ms double precision
) LANGUAGE sql STABLE AS $$
  SELECT task, pool, sum(calls)::bigint, hist_percentile(hist_sum(latency_hist), 0.5), hist_percentile(hist_sum(latency_hist), 0.95),
    hist_percentile(hist_sum(ttft_hist), 0.5)
  FROM attempt_rollups WHERE day >= since GROUP BY task, pool ORDER BY task, pool
$$;
--> statement-breakpoint
CREATE VIEW latency_per_task AS SELECT * FROM latency_per_task_since('-infinity');
--> statement-breakpoint
CREATE FUNCTION routing_savings_since(since date) RETURNS TABLE (
  pipeline text, calls bigint, cost_usd double precision, reference_cost_usd double precision, savings_usd double precision, savings_share double precision
) LANGUAGE sql STABLE AS $$
  SELECT coalesce(pipeline, '(all)'), sum(calls)::bigint, sum(cost_usd), sum(reference_cost_usd), sum(reference_cost_usd) - sum(cost_usd),
    CASE WHEN sum(reference_cost_usd) > 0 THEN 1 - sum(cost_usd) / sum(reference_cost_usd) END
  FROM attempt_rollups WHERE day >= since GROUP BY GROUPING SETS ((pipeline), ()) ORDER BY pipeline NULLS LAST
$$;
--> statement-breakpoint
CREATE VIEW routing_savings AS SELECT * FROM routing_savings_since('-infinity');
