import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ValidationError } from '../private/validation-error';

export interface ServiceRepositoriesProps {
  /** Repository name prefix, e.g. `mlp/tier1`; each service's repository is `<prefix>/<service>`. */
  readonly prefix: string;
  readonly services: readonly string[];
  readonly encryptionKey: kms.IKey;
  /**
   * Untagged images are expired after this long.
   * @default Duration.days(14)
   */
  readonly untaggedImageExpiry?: Duration;
}

/**
 * One ECR repository per service: immutable tags (a tag always names the same image, so a rollback
 * is a tag change), scan on push, KMS encryption, and retained on delete (images are release artifacts).
 */
export class ServiceRepositories extends Construct {
  public readonly repositories: Record<string, ecr.Repository> = {};

  constructor(scope: Construct, id: string, props: ServiceRepositoriesProps) {
    super(scope, id);
    if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(props.prefix)) {
      throw new ValidationError(`prefix "${props.prefix}" is not a valid ECR repository path`, this);
    }
    if (new Set(props.services).size !== props.services.length) {
      throw new ValidationError(`services lists a service twice: ${props.services.join(', ')}`, this);
    }
    for (const service of props.services) {
      this.repositories[service] = new ecr.Repository(this, service, {
        repositoryName: `${props.prefix}/${service}`,
        imageTagMutability: ecr.TagMutability.IMMUTABLE,
        imageScanOnPush: true,
        encryption: ecr.RepositoryEncryption.KMS,
        encryptionKey: props.encryptionKey,
        removalPolicy: RemovalPolicy.RETAIN,
        lifecycleRules: [{ tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: props.untaggedImageExpiry ?? Duration.days(14) }],
      });
    }
  }

  /** Image URI of `service` at `tag`. */
  imageUri(service: string, tag: string): string {
    const repository = this.repositories[service];
    if (!repository) throw new ValidationError(`no repository for service ${service}`, this);
    return repository.repositoryUriForTag(tag);
  }
}
