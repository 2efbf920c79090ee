export * from './runbook-set';
export * from './state-machines';
