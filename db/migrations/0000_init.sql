CREATE TABLE "model_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"attempt_key" text NOT NULL,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"pipeline" text NOT NULL,
	"step" text NOT NULL,
	"item_index" integer DEFAULT -1 NOT NULL,
	"task" text NOT NULL,
	"task_version" integer NOT NULL,
	"attempt_no" integer NOT NULL,
	"kind" text NOT NULL,
	"activity_attempt" integer NOT NULL,
	"pool" text NOT NULL,
	"model" text NOT NULL,
	"endpoint" text NOT NULL,
	"route_reason" text NOT NULL,
	"schema_mode" text NOT NULL,
	"max_tokens" integer NOT NULL,
	"repaired_paths" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"request" jsonb NOT NULL,
	"raw_output" text,
	"finish_reason" text,
	"http_status" integer,
	"error" text,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"tokens_estimated" boolean DEFAULT false NOT NULL,
	"latency_ms" integer NOT NULL,
	"ttft_ms" integer,
	"price_version" text NOT NULL,
	"cost_usd" double precision DEFAULT 0 NOT NULL,
	"reference_model" text NOT NULL,
	"reference_cost_usd" double precision DEFAULT 0 NOT NULL,
	"valid" boolean,
	"issues" jsonb,
	"fixes" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"validated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "pipeline_runs" (
	"workflow_id" text PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"pipeline" text NOT NULL,
	"pipeline_version" integer NOT NULL,
	"registry_version" text NOT NULL,
	"status" text NOT NULL,
	"input" jsonb NOT NULL,
	"output" jsonb,
	"error" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL,
	"repairs" integer DEFAULT 0 NOT NULL,
	"escalations" integer DEFAULT 0 NOT NULL,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	"cost_usd" double precision DEFAULT 0 NOT NULL,
	"reference_cost_usd" double precision DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "task_results" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"pipeline" text NOT NULL,
	"step" text NOT NULL,
	"item_index" integer DEFAULT -1 NOT NULL,
	"task" text NOT NULL,
	"task_version" integer NOT NULL,
	"status" text NOT NULL,
	"output" jsonb,
	"issues" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"unresolved_paths" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"attempts" integer NOT NULL,
	"repairs" integer NOT NULL,
	"escalations" integer NOT NULL,
	"final_pool" text,
	"prompt_tokens" integer NOT NULL,
	"completion_tokens" integer NOT NULL,
	"cost_usd" double precision NOT NULL,
	"reference_cost_usd" double precision NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "model_attempts_attempt_key_uq" ON "model_attempts" USING btree ("attempt_key");--> statement-breakpoint
CREATE INDEX "model_attempts_workflow_idx" ON "model_attempts" USING btree ("workflow_id","run_id");--> statement-breakpoint
CREATE INDEX "model_attempts_task_created_idx" ON "model_attempts" USING btree ("task","created_at");--> statement-breakpoint
CREATE INDEX "model_attempts_created_idx" ON "model_attempts" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "pipeline_runs_pipeline_started_idx" ON "pipeline_runs" USING btree ("pipeline","started_at");--> statement-breakpoint
CREATE UNIQUE INDEX "task_results_run_step_item_uq" ON "task_results" USING btree ("workflow_id","run_id","step","item_index");--> statement-breakpoint
CREATE INDEX "task_results_task_created_idx" ON "task_results" USING btree ("task","created_at");