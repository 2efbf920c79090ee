export * from './stateful-resource-guard';
