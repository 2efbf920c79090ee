export * from './assembly';
export * from './check';
