export * from './remote-parameter';
