CREATE TABLE "attempt_rollups" (
	"day" date NOT NULL,
	"pipeline" text NOT NULL,
	"task" text NOT NULL,
	"pool" text NOT NULL,
	"model" text NOT NULL,
	"kind" text NOT NULL,
	"calls" bigint DEFAULT 0 NOT NULL,
	"failed_calls" bigint DEFAULT 0 NOT NULL,
	"prompt_tokens" bigint DEFAULT 0 NOT NULL,
	"completion_tokens" bigint DEFAULT 0 NOT NULL,
	"estimated_token_calls" bigint DEFAULT 0 NOT NULL,
	"cost_usd" double precision DEFAULT 0 NOT NULL,
	"reference_cost_usd" double precision DEFAULT 0 NOT NULL,
	"latency_hist" bigint[] NOT NULL,
	"ttft_hist" bigint[] NOT NULL,
	CONSTRAINT "attempt_rollups_day_pipeline_task_pool_model_kind_pk" PRIMARY KEY("day","pipeline","task","pool","model","kind")
);
--> statement-breakpoint
CREATE TABLE "price_versions" (
	"version" text PRIMARY KEY NOT NULL,
	"pool" text NOT NULL,
	"model" text NOT NULL,
	"input_per_mtok" double precision NOT NULL,
	"output_per_mtok" double precision NOT NULL,
	"basis" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
