/** Failure types that retry policies and operators can name. */
export const FailureTypes = {
  /** the endpoint refused the request in a way a retry cannot change (4xx other than 408/409/429) */
  modelRequestRejected: 'ModelRequestRejected',
  /** the endpoint could not be reached or failed transiently (retryable) */
  modelUnavailable: 'ModelUnavailable',
  /** 429 from the endpoint (retryable, honours Retry-After) */
  modelRateLimited: 'ModelRateLimited',
  /** a micro-task whose output could not be made valid within its budget */
  microTaskFailed: 'MicroTaskFailed',
  invalidPipelineInput: 'InvalidPipelineInput',
  /** a defect in a pipeline definition (a step's input builder, a check) surfaced while running */
  pipelineError: 'PipelineError',
  /** the run's cost budget was spent before the micro-task could finish */
  costBudgetExceeded: 'CostBudgetExceeded',
  unknownTask: 'UnknownMicroTask',
  /** an input too large for the window of every pool its micro-task can be routed to, refused before any call */
  inputTooLarge: 'InputTooLarge',
  /** a call routed to one pool reached a worker of another: the workflow's registry and the worker's disagree on task queues */
  misroutedCall: 'MisroutedModelCall',
} as const;
