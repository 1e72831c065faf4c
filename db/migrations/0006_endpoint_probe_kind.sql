ALTER TABLE "endpoint_probes" ADD COLUMN "kind" text DEFAULT 'openai' NOT NULL;--> statement-breakpoint
ALTER TABLE "endpoint_probes" DROP CONSTRAINT "endpoint_probes_endpoint_model_declared_mode_pk";--> statement-breakpoint
ALTER TABLE "endpoint_probes" ADD CONSTRAINT "endpoint_probes_endpoint_model_kind_declared_mode_pk" PRIMARY KEY("endpoint","model","kind","declared_mode");
