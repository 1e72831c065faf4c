CREATE TABLE "api_key_days" (
	"key_id" text NOT NULL,
	"day" date NOT NULL,
	"reserved_usd" numeric(18, 9) DEFAULT 0 NOT NULL,
	"spent_usd" numeric(18, 9) DEFAULT 0 NOT NULL,
	CONSTRAINT "api_key_days_key_id_day_pk" PRIMARY KEY("key_id","day")
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"pipelines" jsonb NOT NULL,
	"daily_budget_usd" numeric(18, 9) NOT NULL,
	"run_budget_usd" numeric(18, 9) NOT NULL,
	"rate_limit_per_minute" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "api_runs" (
	"workflow_id" text PRIMARY KEY NOT NULL,
	"key_id" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"request_hash" text NOT NULL,
	"day" date NOT NULL,
	"reserved_usd" numeric(18, 9) NOT NULL,
	"spent_usd" numeric(18, 9),
	"settled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_key_days" ADD CONSTRAINT "api_key_days_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_runs" ADD CONSTRAINT "api_runs_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_runs_key_unsettled_idx" ON "api_runs" USING btree ("key_id") WHERE "api_runs"."settled_at" is null;