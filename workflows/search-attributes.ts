import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes: "runs with failed repairs" is `Outcome="failed" AND RepairCount > 0` in the UI. */
export const PipelineKey = defineSearchAttributeKey('Pipeline', SearchAttributeType.KEYWORD);
export const OutcomeKey = defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD);
export const RepairCountKey = defineSearchAttributeKey('RepairCount', SearchAttributeType.INT);
export const EscalationsKey = defineSearchAttributeKey('Escalations', SearchAttributeType.INT);
export const CostUsdKey = defineSearchAttributeKey('CostUsd', SearchAttributeType.DOUBLE);

export const SEARCH_ATTRIBUTES = [PipelineKey, OutcomeKey, RepairCountKey, EscalationsKey, CostUsdKey] as const;
