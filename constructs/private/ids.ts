/** `tracking-server` -> `TrackingServer`, `batch_features` -> `BatchFeatures`: a construct id from a name. */
export function pascalCase(name: string): string {
  return name
    .split(/[-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
