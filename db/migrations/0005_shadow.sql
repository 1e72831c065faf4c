CREATE TABLE "shadow_results" (
	"shadow_workflow_id" text PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"pipeline" text NOT NULL,
	"step" text NOT NULL,
	"item_index" integer NOT NULL,
	"task" text NOT NULL,
	"task_version" integer NOT NULL,
	"live_pool" text NOT NULL,
	"shadow_pool" text NOT NULL,
	"shadow_status" text NOT NULL,
	"fields" jsonb NOT NULL,
	"agreed" boolean NOT NULL,
	"cost_usd" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "shadow_results_task_created_idx" ON "shadow_results" USING btree ("task","created_at");--> statement-breakpoint
-- agreement of shadow runs with the live ones, per micro-task, day, pool pair and field; only
-- shadows that ended valid are compared, the others are counted in shadow_failed
CREATE VIEW shadow_agreement AS
WITH days AS (
  SELECT task, (created_at AT TIME ZONE 'UTC')::date AS day, live_pool, shadow_pool, shadow_status, fields, agreed
  FROM shadow_results
)
SELECT d.task, d.day, d.live_pool, d.shadow_pool, f.key AS field,
  count(*)::int AS samples,
  count(*) FILTER (WHERE f.value = 'true'::jsonb)::int AS agreed,
  round(avg(CASE WHEN f.value = 'true'::jsonb THEN 1 ELSE 0 END)::numeric, 4) AS agreement,
  (SELECT count(*)::int FROM days x WHERE x.task = d.task AND x.day = d.day AND x.live_pool = d.live_pool AND x.shadow_pool = d.shadow_pool AND x.shadow_status <> 'valid') AS shadow_failed
FROM days d CROSS JOIN LATERAL jsonb_each(d.fields) f
WHERE d.shadow_status = 'valid'
GROUP BY d.task, d.day, d.live_pool, d.shadow_pool, f.key
UNION ALL
SELECT d.task, d.day, d.live_pool, d.shadow_pool, '(whole output)' AS field,
  count(*) FILTER (WHERE d.shadow_status = 'valid')::int,
  count(*) FILTER (WHERE d.shadow_status = 'valid' AND d.agreed)::int,
  round(avg(CASE WHEN d.agreed THEN 1 ELSE 0 END) FILTER (WHERE d.shadow_status = 'valid')::numeric, 4),
  count(*) FILTER (WHERE d.shadow_status <> 'valid')::int
FROM days d
GROUP BY d.task, d.day, d.live_pool, d.shadow_pool;
