export * from './runbook-set';
export * from './scheduled-preflight';
export * from './state-machines';
export * from './state-store';
