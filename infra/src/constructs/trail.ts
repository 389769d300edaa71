/**
 * A CloudTrail trail of management (write) events, for the `subscriptions` stack's EventBridge rule
 * on `CreateLogGroup`: EventBridge receives "AWS API Call via CloudTrail" events only while a trail
 * records management events in the region. Its bucket is private (public access blocked, owner
 * enforced), encrypted (SSE-S3), TLS-only, expires the logs, and admits CloudTrail only for this
 * trail (`aws:SourceArn`, the confused-deputy guard AWS documents for the trail bucket policy).
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from './common.js';

export interface ManagementEventsTrailProps {
  trailName: string;
  /** Record every region's management events (one trail for the account) or this region's only. */
  multiRegion: boolean;
  /** Days after which the trail's log files are deleted. */
  expireAfterDays: number;
  removalPolicy: 'retain' | 'destroy';
  accessLogsBucket?: string;
}

export class ManagementEventsTrail extends Construct {
  readonly bucket: s3.Bucket;
  readonly trail: cloudtrail.CfnTrail;
  readonly trailArn: string;

  constructor(scope: Construct, id: string, props: ManagementEventsTrailProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Built from the name: the bucket policy must exist before the trail (CloudTrail checks it).
    this.trailArn = stack.formatArn({
      service: 'cloudtrail',
      resource: 'trail',
      resourceName: props.trailName,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: props.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-trail-logs',
          expiration: Duration.days(props.expireAfterDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      serverAccessLogsBucket: props.accessLogsBucket
        ? s3.Bucket.fromBucketName(this, 'AccessLogs', props.accessLogsBucket)
        : undefined,
      serverAccessLogsPrefix: props.accessLogsBucket ? `${props.trailName}/` : undefined,
    });
    if (!props.accessLogsBucket)
      acknowledge(
        this.bucket,
        'AwsSolutions-S1',
        'the trail bucket is written by CloudTrail only (for this trail, by aws:SourceArn); server access ' +
          'logging is optional (subscriptions.trail.accessLogsBucket).',
      );
    const cloudTrail = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
    const onlyThisTrail = { StringEquals: { 'aws:SourceArn': this.trailArn } };
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailAclCheck',
        principals: [cloudTrail],
        actions: ['s3:GetBucketAcl'],
        resources: [this.bucket.bucketArn],
        conditions: onlyThisTrail,
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailWrite',
        principals: [cloudTrail],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`AWSLogs/${stack.account}/*`)],
        conditions: {
          StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': this.trailArn },
        },
      }),
    );
    this.trail = new cloudtrail.CfnTrail(this, 'Trail', {
      trailName: props.trailName,
      s3BucketName: this.bucket.bucketName,
      isLogging: true,
      isMultiRegionTrail: props.multiRegion,
      includeGlobalServiceEvents: props.multiRegion,
      enableLogFileValidation: true,
      // CreateLogGroup is a write: read-only management events would only add cost.
      eventSelectors: [{ includeManagementEvents: true, readWriteType: 'WriteOnly' }],
    });
    const policy = this.bucket.policy;
    if (policy) this.trail.node.addDependency(policy);
  }
}
