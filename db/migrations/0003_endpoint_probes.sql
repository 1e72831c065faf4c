CREATE TABLE "endpoint_probes" (
	"endpoint" text NOT NULL,
	"model" text NOT NULL,
	"declared_mode" text NOT NULL,
	"schema_enforced" boolean NOT NULL,
	"effective_mode" text NOT NULL,
	"reports_usage" boolean NOT NULL,
	"detail" text NOT NULL,
	"probed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "endpoint_probes_endpoint_model_declared_mode_pk" PRIMARY KEY("endpoint","model","declared_mode")
);
