export * from './runbook-set';
export * from './state-machines';
export * from './state-store';
