export * from './fence';
export * from './gate-keeper';
export * from './lock';
export * from './open';
export * from './plan';
export * from './preflight';
export * from './promote';
