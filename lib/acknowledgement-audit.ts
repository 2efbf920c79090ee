import type { IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport, PolicyViolation } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import * as nag from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * The name of every pack cdk-nag ships, read from the packs themselves: each of its rule ids is
 * `<pack name>-<rule>`, optionally with `[<finding>]` (`AwsSolutions-IAM5[Action::s3:*]`).
 */
export const NAG_PACK_NAMES: readonly string[] = Object.values(nag)
  .filter((value): value is new () => nag.NagPack => typeof value === 'function' && value.prototype instanceof nag.NagPack)
  .map((Pack) => new Pack().readPackName)
  .sort();

/** cdk-nag's private look-up, which `NagPack.applyRule` calls each time one of its rules has a finding. */
type IsAcknowledged = (resource: IConstruct, ruleId: string) => boolean;

/** The cdk-nag pack whose rule `id` is, or undefined when it is no cdk-nag rule's. */
function nagPackOf(id: string): string | undefined {
  return NAG_PACK_NAMES.find((pack) => id.startsWith(`${pack}-`));
}

/**
 * The ids acknowledged on one construct itself (not its scopes), as cdk-nag reads them: `acknowledge`
 * stores an id without a namespace as `Annotation::<id>` (aws-cdk-lib before 2.262.1: `annotation::`).
 */
function acknowledgedIds(construct: IConstruct): string[] {
  return construct.node.metadata
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && entry.data)
    .flatMap((entry) => Object.keys(entry.data as Record<string, string>).map((key) => key.replace(/^annotation::/i, '')));
}

/**
 * Fails synthesis on every cdk-nag acknowledgement that matches no finding: an acknowledgement is a
 * statement that a finding fires there and why it is accepted, so one that matches nothing is false
 * (e.g. it claims something about a resource that is no longer so, or names the wrong rule).
 *
 * cdk-nag's report does not list the findings it suppressed, so the audit watches each pack while it
 * runs: every time a rule has a finding on a resource, the pack asks whether it is acknowledged on the
 * resource or a scope above it, and the audit notes every construct on that way up whose
 * acknowledgements name the finding's id. After the packs, it reports every acknowledgement of a
 * cdk-nag id (any pack's, run or not) that no finding reached. An acknowledgement above a closer one
 * for the same finding still counts as matched: what it states is true.
 *
 * Register it after the packs it watches (`watch`): aws-cdk-lib runs a stage's validation plugins in
 * the order they were added, every one of them whatever the others report.
 */
export class AcknowledgementAudit implements IPolicyValidationPlugin {
  readonly name = 'cdk-nag acknowledgements';

  /** Construct path -> acknowledged ids a finding reached, per watched pack; undefined until its run completes. */
  private readonly matchedByPack = new Map<nag.NagPack, Map<string, Set<string>> | undefined>();

  /**
   * Watch a pack's acknowledgement look-ups while it validates. Returns the pack, to register as a
   * validation plugin before this audit.
   */
  watch<T extends nag.NagPack>(pack: T): T {
    const internals = pack as unknown as { isAcknowledged?: IsAcknowledged };
    const lookUp = internals.isAcknowledged;
    if (typeof lookUp !== 'function') {
      throw new Error(`cdk-nag's ${pack.readPackName} pack has no isAcknowledged method: the acknowledgement audit needs updating`);
    }
    this.matchedByPack.set(pack, undefined);
    let matched = new Map<string, Set<string>>();
    internals.isAcknowledged = (resource, ruleId) => {
      const answer = lookUp.call(pack, resource, ruleId);
      const acknowledgedAt = resource.node.scopes.filter((scope) => acknowledgedIds(scope).includes(ruleId));
      if (answer !== acknowledgedAt.length > 0) {
        throw new Error(
          `cdk-nag's ${pack.readPackName} pack answered ${answer} for ${ruleId} on ${resource.node.path}, ` +
            'where the acknowledgement audit reads the opposite: it needs updating for this cdk-nag version',
        );
      }
      for (const scope of acknowledgedAt) {
        const ids = matched.get(scope.node.path) ?? new Set<string>();
        ids.add(ruleId);
        matched.set(scope.node.path, ids);
      }
      return answer;
    };
    const validate = pack.validate.bind(pack);
    pack.validate = (context) => {
      this.matchedByPack.set(pack, undefined);
      matched = new Map();
      const report = validate(context);
      this.matchedByPack.set(pack, matched);
      return report;
    };
    return pack;
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const unfinished = [...this.matchedByPack].filter(([, matched]) => matched === undefined).map(([pack]) => pack.readPackName);
    if (unfinished.length > 0) {
      // A pack that failed is reported by itself; auditing without its findings would report its acknowledgements as false.
      throw new Error(
        `the acknowledgements cannot be audited: the ${unfinished.join(', ')} pack(s) did not complete a run before the audit`,
      );
    }
    const matched = (path: string, id: string) => [...this.matchedByPack.values()].some((byPath) => byPath?.get(path)?.has(id));
    const watched = new Set([...this.matchedByPack.keys()].map((pack) => pack.readPackName));
    const violations: PolicyViolation[] = [];
    for (const construct of context.appConstruct.node.findAll()) {
      const path = construct.node.path;
      for (const id of new Set(acknowledgedIds(construct))) {
        const pack = nagPackOf(id);
        if (pack === undefined || matched(path, id)) continue;
        const why = watched.has(pack) ? `no ${id} finding fires on ${path} or below it` : `the ${pack} pack does not run`;
        violations.push({
          ruleName: 'UnmatchedAcknowledgement',
          description:
            `The acknowledgement of ${id} on ${path} matches no finding: ${why}. ` +
            'Remove the acknowledgement if the finding is gone, or correct its id or its construct.',
          severity: 'error',
          violatingResources: [{ constructPath: path, locations: [] }],
        });
      }
    }
    return { success: violations.length === 0, violations };
  }
}
