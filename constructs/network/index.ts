export * from './platform-vpc';
