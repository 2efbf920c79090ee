export * from './address-plan';
export * from './context';
export * from './errors';
export * from './naming';
export * from './regions';
export * from './tiers';
export * from './topology';
export * from './types';
