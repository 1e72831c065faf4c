CREATE TABLE "eval_items" (
	"eval_id" text NOT NULL,
	"config" text NOT NULL,
	"example_id" text NOT NULL,
	"held_out" boolean NOT NULL,
	"workflow_id" text NOT NULL,
	"status" text NOT NULL,
	"fields_scored" integer NOT NULL,
	"fields_correct" integer NOT NULL,
	"silent_errors" integer NOT NULL,
	"scores" jsonb NOT NULL,
	"attempts" integer NOT NULL,
	"repairs" integer NOT NULL,
	"escalations" integer NOT NULL,
	"prompt_tokens" integer NOT NULL,
	"completion_tokens" integer NOT NULL,
	"cost_usd" double precision NOT NULL,
	"reference_cost_usd" double precision NOT NULL,
	"latency_ms" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "eval_items_eval_id_config_example_id_pk" PRIMARY KEY("eval_id","config","example_id")
);
--> statement-breakpoint
CREATE TABLE "eval_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"dataset" text NOT NULL,
	"pipeline" text NOT NULL,
	"configs" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
