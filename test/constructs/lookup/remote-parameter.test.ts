import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, test } from 'vitest';
import { RemoteParameter } from '../../../constructs/lookup';
import { testLogsKey } from '../../support/fixtures';
import { testApp } from '../../support/synth';

describe('RemoteParameter', () => {
  const stack = new Stack(testApp(), 'Member', { env: { account: '111122223333', region: 'us-west-2' } });
  const lookup = new RemoteParameter(stack, 'Lookup', {
    logEncryptionKey: testLogsKey(stack),
    parameterName: '/mlp/tier1/redis/global-datastore-id',
    region: 'us-east-1',
  });
  const template = Template.fromStack(stack);

  test("reads the parameter from the primary's region", () => {
    const [resource] = Object.values(template.findResources('Custom::RemoteParameter'));
    const create = JSON.parse(resource?.Properties.Create as string);
    expect(create).toMatchObject({
      service: 'SSM',
      action: 'getParameter',
      region: 'us-east-1',
      parameters: { Name: '/mlp/tier1/redis/global-datastore-id' },
    });
    expect(stack.resolve(lookup.value)).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Parameter.Value'] });
  });

  test('may read that one parameter and nothing else', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'ssm:GetParameter',
            Effect: 'Allow',
            Resource: 'arn:aws:ssm:us-east-1:111122223333:parameter/mlp/tier1/redis/global-datastore-id',
          },
        ],
      },
    });
  });
});
