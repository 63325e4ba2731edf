// Imported first by the handler tests: a handler module reads its settings and builds its SDK
// clients at load (no call is made); the tests then drive createHandler with in-memory stores.
Object.assign(process.env, {
  AWS_REGION: 'us-east-1',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  REPORTS_BUCKET: 'reports',
  MODELS_BUCKET: 'models',
  REGISTRY_TABLE: 'registry',
  TRACKING_TABLE: 'tracking',
  ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:alerts',
  ENVIRONMENT_NAME: 'local',
  PRODUCTION_REQUIRES_APPROVAL: 'false',
  CODE_VERSION: 'test',
  APPROVAL_TIMEOUT_SECONDS: '3600',
  DATASETS_BUCKET: 'datasets',
  MAX_DATASET_BYTES: '1000000',
  PREDICTION_LOGS_BUCKET: 'prediction-logs',
  REGISTRATION_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:registration',
  TRAINING_PIPELINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:training',
});
