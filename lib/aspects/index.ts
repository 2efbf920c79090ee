export * from './cdk-provided-acknowledgements';
export * from './stateful-resource-guard';
