export * from './address-plan';
export * from './context';
export * from './naming';
export * from './regions';
export * from './tiers';
export * from './types';
