export * from './cross-region-read-replica';
