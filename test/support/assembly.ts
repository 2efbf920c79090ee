import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { inject } from 'vitest';

export interface CfnTemplate {
  readonly Resources: Record<
    string,
    {
      Type: string;
      Properties?: Record<string, unknown>;
      DependsOn?: string | string[];
      DeletionPolicy?: string;
      UpdateReplacePolicy?: string;
    }
  >;
  readonly [key: string]: unknown;
}

interface ManifestArtifact {
  type: string;
  environment?: string;
  properties?: { templateFile?: string; terminationProtection?: boolean; tags?: Record<string, string> };
  dependencies?: string[];
  metadata?: Record<string, MetadataEntry[]>;
  /** Newer assemblies keep construct metadata in a file beside the manifest. */
  additionalMetadataFile?: string;
}

interface MetadataEntry {
  type: string;
  data: unknown;
}

/** A synthesized layout, read back from its cloud assembly directory. */
export class LayoutAssembly {
  static of(layoutId: string): LayoutAssembly {
    const error = inject('synthErrors')[layoutId];
    if (error) throw new Error(`layout ${layoutId} failed to synthesize:\n${error}`);
    const dir = inject('assemblies')[layoutId];
    if (!dir) throw new Error(`no assembly for layout ${layoutId}`);
    return new LayoutAssembly(dir);
  }

  private readonly manifest: { artifacts: Record<string, ManifestArtifact> };
  private readonly templates = new Map<string, CfnTemplate>();

  private constructor(readonly directory: string) {
    this.manifest = JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8'));
  }

  /** Stack names in manifest order. */
  get stackNames(): string[] {
    return Object.entries(this.manifest.artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([name]) => name);
  }

  artifact(stackName: string): ManifestArtifact {
    const artifact = this.manifest.artifacts[stackName];
    if (!artifact) throw new Error(`no stack ${stackName}; stacks: ${this.stackNames.join(', ')}`);
    return artifact;
  }

  template(stackName: string): CfnTemplate {
    let template = this.templates.get(stackName);
    if (!template) {
      template = JSON.parse(this.templateText(stackName)) as CfnTemplate;
      this.templates.set(stackName, template);
    }
    return template;
  }

  templateText(stackName: string): string {
    const file = this.artifact(stackName).properties?.templateFile;
    if (!file) throw new Error(`stack ${stackName} has no template file`);
    return readFileSync(join(this.directory, file), 'utf8');
  }

  /** An assertions `Template` for fine-grained matching. */
  assertions(stackName: string): Template {
    return Template.fromJSON(this.template(stackName));
  }

  /** Resources of one CloudFormation type, by logical id. */
  resourcesOfType(stackName: string, type: string): Record<string, CfnTemplate['Resources'][string]> {
    return Object.fromEntries(Object.entries(this.template(stackName).Resources).filter(([, r]) => r.Type === type));
  }

  /** The validation report (cdk-nag and the built-in CloudFormation validation). */
  validationReport(): { pluginReports: { pluginName: string; violations: unknown[] }[] } {
    const file = join(this.directory, 'validation-report.json');
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { pluginReports: [] };
  }

  /** Construct metadata of one stack, by construct path. */
  metadata(stackName: string): Record<string, MetadataEntry[]> {
    const artifact = this.artifact(stackName);
    const fromFile = artifact.additionalMetadataFile
      ? (JSON.parse(readFileSync(join(this.directory, artifact.additionalMetadataFile), 'utf8')) as Record<string, MetadataEntry[]>)
      : {};
    return { ...artifact.metadata, ...fromFile };
  }

  /** Metadata entries of one type across all stacks, e.g. `aws:cdk:error`. */
  metadataOfType(type: string): { path: string; data: unknown }[] {
    return this.stackNames.flatMap((stackName) =>
      Object.entries(this.metadata(stackName)).flatMap(([path, entries]) =>
        entries.filter((e) => e.type === type).map((e) => ({ path, data: e.data })),
      ),
    );
  }
}
