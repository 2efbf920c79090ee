export * from './data-store-network';
export * from './platform-vpc';
