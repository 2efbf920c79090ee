/**
 * Kafka client settings for MSK's IAM access control: SASL over TLS with the `AWS_MSK_IAM`
 * mechanism of the aws-msk-iam-auth library, which signs with the pod's credentials (Pod Identity).
 * The library's jar must be on the client's classpath (the platform's Kafka tools image has it).
 */
export const MSK_IAM_CLIENT_SETTINGS: Readonly<Record<string, string>> = {
  'security.protocol': 'SASL_SSL',
  'sasl.mechanism': 'AWS_MSK_IAM',
  'sasl.jaas.config': 'software.amazon.msk.auth.iam.IAMLoginModule required;',
  'sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
};

/** `key = value` lines of a Java properties file, each key optionally prefixed (`<prefix>.<key>`). */
export function propertyLines(settings: Readonly<Record<string, string>>, prefix?: string): string[] {
  return Object.entries(settings).map(([key, value]) => `${prefix === undefined ? key : `${prefix}.${key}`} = ${value}`);
}

/** `client.properties` for the Kafka command-line tools (`--command-config`). */
export function mskIamClientProperties(): string {
  return `${propertyLines(MSK_IAM_CLIENT_SETTINGS).join('\n')}\n`;
}
