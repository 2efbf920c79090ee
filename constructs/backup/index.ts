export * from './regional-backup-plan';
