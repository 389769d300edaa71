/**
 * Issue #8 §1 masking, judged on realistic lines (session 5, accept8): each secret kind of the
 * default set inside EKS audit / klog / Lambda / ECS / nginx / ALB / Java lines must be masked, and
 * lines that only name secrets (klog `secret="ns/name"`, Secrets Manager ARNs, annotation keys with
 * `token`, hashes, trace ids) must come out unchanged. Before this test: a Slack incoming-webhook
 * URL was missed, and `secret="kube-system/bootstrap-token-…"` and the `secret:prod/db-…` part of
 * a Secrets Manager ARN were masked.
 */
import { describe, expect, it } from 'vitest';
import { createMasker } from '../src/transforms/mask.js';
const m = createMasker();
const pos: [string, string, string][] = [
  // kind, line, secret
  [
    'github',
    'git clone https://x-access-token:ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/org/repo.git',
    'ghp_16C7e42F292c6912E7710c838347Ae178B4a',
  ],
  [
    'github',
    'INFO using token gho_16C7e42F292c6912E7710c838347Ae178B4a for api',
    'gho_16C7e42F292c6912E7710c838347Ae178B4a',
  ],
  [
    'github',
    '{"level":"debug","msg":"auth","pat":"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345"}',
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345',
  ],
  [
    'github',
    'ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 used by action',
    'ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
  ],
  [
    'slack',
    'posting to slack with xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
  ],
  [
    'slack',
    'xoxp-1111111111-2222222222-3333333333-abcdef0123456789abcdef0123456789 rejected',
    'xoxp-1111111111-2222222222-3333333333-abcdef0123456789abcdef0123456789',
  ],
  [
    'slack',
    'webhook https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX failed',
    'XXXXXXXXXXXXXXXXXXXXXXXX',
  ],
  [
    'apikey',
    '10.0.0.1 - - [06/Dec/2026:10:00:00 +0000] "GET /v1/items?apikey=9f8e7d6c5b4a39281706f5e4d3c2b1a0&page=2 HTTP/1.1" 200 512 "-" "curl/8.0"',
    '9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  ],
  ['apikey', 'request headers: x-api-key: Zx81kLmQ2pR7sT9uV3wY5aB6cD', 'Zx81kLmQ2pR7sT9uV3wY5aB6cD'],
  [
    'apikey',
    '{"headers":{"X-Api-Key":"Zx81kLmQ2pR7sT9uV3wY5aB6cD","accept":"*/*"}}',
    'Zx81kLmQ2pR7sT9uV3wY5aB6cD',
  ],
  [
    'apikey',
    'https elb 2026-12-06T10:00:00.000000Z app/alb/50dc6c495c0c9188 1.2.3.4:5678 10.0.0.5:80 0.000 0.001 0.000 200 200 34 366 "GET https://api.example.com:443/v2/search?q=shoes&api_key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI HTTP/1.1" "Mozilla/5.0" - -',
    'AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI',
  ],
  ['stripe', 'charge failed with key sk_live_51H8aBcDeFgHiJkLmNoPqRsTu', 'sk_live_51H8aBcDeFgHiJkLmNoPqRsTu'],
  ['stripe', '{"stripeKey":"rk_live_51H8aBcDeFgHiJkLmNoPqRsTuVw"}', 'rk_live_51H8aBcDeFgHiJkLmNoPqRsTuVw'],
  [
    'google',
    'maps client init key=AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI region=eu',
    'AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI',
  ],
  ['aws', 'Using credentials AKIAIOSFODNN7EXAMPLE from env', 'AKIAIOSFODNN7EXAMPLE'],
  [
    'aws',
    'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  ],
  [
    'jwt',
    'Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  ],
  ['kv', 'level=info msg="connecting" db_password=Hunter2Hunter2 host=db1', 'Hunter2Hunter2'],
  ['kv', 'api secret=ab/CdEfGhIjKlMnOp1234 rotated', 'ab/CdEfGhIjKlMnOp1234'],
  [
    'kv',
    'client_secret=8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d grant_type=client_credentials',
    '8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d',
  ],
  ['kv', 'session token=Fq8kL2mN9pQ4rS7tV1wX3yZ5aB0cD6eF refreshed', 'Fq8kL2mN9pQ4rS7tV1wX3yZ5aB0cD6eF'],
  [
    'kv',
    'I1206 10:00:00.000000 1 config.go:12] using secret: "p4ssw0rd-Very-Long-9"',
    'p4ssw0rd-Very-Long-9',
  ],
  ['url', 'connecting to postgres://app:S3cr3tPa55@db.internal:5432/app', 'S3cr3tPa55'],
  [
    'pem',
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1c2\n-----END RSA PRIVATE KEY-----',
    'MIIEpAIBAAKCAQEA1c2',
  ],
  [
    'java',
    'com.example.AuthException: invalid credentials for token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.abcDEF123ghiJKL456mnoPQR789stu\n\tat com.example.Auth.check(Auth.java:42)',
    'abcDEF123ghiJKL456mnoPQR789stu',
  ],
  [
    'ecs',
    '{"container":"web","env":{"DATABASE_URL":"mysql://root:r00tPassw0rd@10.0.1.2/shop"}}',
    'r00tPassw0rd',
  ],
];
const neg: [string, string][] = [
  [
    'eks-audit',
    JSON.stringify({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: '4b6c1f2e-1a2b-4c3d-9e8f-0123456789ab',
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/kube-system/serviceaccounts/coredns/token',
      verb: 'create',
      user: {
        username: 'system:kube-controller-manager',
        uid: 'a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d',
        groups: ['system:authenticated'],
      },
      sourceIPs: ['10.0.12.34'],
      userAgent: 'kube-controller-manager/v1.29.3 (linux/amd64) kubernetes/6813625/tokens-controller',
      objectRef: {
        resource: 'serviceaccounts',
        namespace: 'kube-system',
        name: 'coredns',
        apiVersion: 'v1',
        subresource: 'token',
      },
      responseStatus: { metadata: {}, code: 201 },
      requestReceivedTimestamp: '2026-12-06T10:00:00.000000Z',
      annotations: {
        'authorization.k8s.io/decision': 'allow',
        'authentication.k8s.io/legacy-token-invalidated': 'false',
        'authorization.k8s.io/reason':
          'RBAC: allowed by ClusterRoleBinding "system:controller:token-cleaner"',
      },
    }),
  ],
  [
    'eks-audit-secret',
    JSON.stringify({
      kind: 'Event',
      verb: 'get',
      requestURI: '/api/v1/namespaces/default/secrets/db-credentials',
      objectRef: { resource: 'secrets', name: 'db-credentials', namespace: 'default' },
      user: { username: 'arn:aws:sts::123456789012:assumed-role/eks-admin/alice' },
    }),
  ],
  [
    'klog',
    'I1206 10:00:00.123456       1 controller.go:211] "Successfully synced" key="kube-system/bootstrap-token-abcdef" tokenSecret="bootstrap-token-abcdef"',
  ],
  [
    'klog',
    'W1206 10:00:01.000000   12 reflector.go:535] k8s.io/client-go/informers/factory.go:150: failed to list *v1.Secret: secrets is forbidden: User "system:serviceaccount:kube-system:token-cleaner" cannot list resource "secrets"',
  ],
  [
    'klog',
    'I1206 10:00:02.000000 1 tokencleaner.go:194] "Deleting expired secret" secret="kube-system/bootstrap-token-7h2k9q"',
  ],
  [
    'authenticator',
    'time="2026-12-06T10:00:00Z" level=info msg="access granted" arn="arn:aws:iam::123456789012:role/eks-node" client="127.0.0.1:43210" groups="[system:bootstrappers system:nodes]" method=POST path=/authenticate sts=sts.us-east-1.amazonaws.com uid="aws-iam-authenticator:123456789012:AROAEXAMPLEID12345678" username="system:node:ip-10-0-1-2.ec2.internal"',
  ],
  ['lambda', 'START RequestId: 8f5c2a1e-3b4d-4e6f-9a0b-1c2d3e4f5a6b Version: $LATEST'],
  [
    'lambda',
    'REPORT RequestId: 8f5c2a1e-3b4d-4e6f-9a0b-1c2d3e4f5a6b\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tInit Duration: 150.12 ms\tXRAY TraceId: 1-5e1b4151-5ac6c58f5b5daa6532e4f2e6\tSegmentId: 6b3d7e2f1a9c4b5d\tSampled: true',
  ],
  [
    'lambda',
    '2026-12-06T10:00:00.000Z\t8f5c2a1e-3b4d-4e6f-9a0b-1c2d3e4f5a6b\tINFO\t{"event":"order placed","orderId":"ord_01HF8Z3K4M5N6P7Q8R9S0T1U2V","traceId":"Root=1-5e1b4151-5ac6c58f5b5daa6532e4f2e6;Parent=6b3d7e2f1a9c4b5d;Sampled=1"}',
  ],
  [
    'ecs',
    '{"log":"GET /health 200 1ms","container_id":"3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b2a3f4e","container_name":"/ecs-web-3-web-b8a8f2d7e4c1","ecs_cluster":"prod","ecs_task_arn":"arn:aws:ecs:us-east-1:123456789012:task/prod/1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d","ecs_task_definition":"web:3","source":"stdout"}',
  ],
  [
    'nginx',
    '10.0.0.1 - - [06/Dec/2026:10:00:00 +0000] "GET /static/app.3f9a8b7c6d5e4f3a2b1c.js HTTP/1.1" 200 51234 "https://shop.example.com/" "Mozilla/5.0 (X11; Linux x86_64)" rt=0.001 uct=0.000 request_id=7f3c9a1e2b4d6f8a0c1e3a5b7d9f1a2c',
  ],
  [
    'nginx',
    '10.0.0.2 - - [06/Dec/2026:10:00:01 +0000] "GET /reset-password?token_type=email&next=/account HTTP/1.1" 302 0 "-" "Mozilla/5.0"',
  ],
  [
    'alb',
    'h2 2026-12-06T10:00:00.000000Z app/prod-alb/50dc6c495c0c9188 203.0.113.5:44321 10.0.1.7:8080 0.001 0.012 0.000 200 200 512 1024 "GET https://api.example.com:443/v1/orders/01HF8Z3K4M5N6P7Q8R9S0T1U2V HTTP/2.0" "okhttp/4.12.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/prod-tg/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "api.example.com" "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012" 0 2026-12-06T10:00:00.000000Z "forward" "-" "-" "10.0.1.7:8080" "200" "-" "-"',
  ],
  [
    'java',
    'java.lang.IllegalStateException: Token bucket exhausted for tenant acme\n\tat com.example.ratelimit.TokenBucket.take(TokenBucket.java:88)\n\tat com.example.api.OrdersController.create(OrdersController.java:41)\n\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)',
  ],
  [
    'java',
    '2026-12-06 10:00:00.000 ERROR [orders,5f2b8c1d9e3a4f60,5f2b8c1d9e3a4f60] 1 --- [nio-8080-exec-3] c.e.a.TokenService : token refresh failed: tokenId=3c1e5a7b status=401',
  ],
  ['generic', 'cache key=user:1234:profile hit ratio=0.93'],
  [
    'generic',
    'sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 image=public.ecr.aws/nginx/nginx:1.25',
  ],
  ['generic', 'max_tokens=4096 token_count=1532 model=claude'],
  ['generic', 'secretName=db-credentials mountPath=/etc/secrets'],
  [
    'generic',
    'level=info msg="rotated" secret_arn=arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf',
  ],
  ['generic', 'trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7'],
  ['generic', 'commit=9fceb02d0ae598e95dc970b74767f19372d61af8 branch=main'],
  [
    'generic',
    'fetched arn:aws:secretsmanager:us-east-1:123456789012:secret:production/database-credentials-AbCdEf ok',
  ],
  [
    'generic',
    '{"SecretId":"arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/api-token-Zy9XwV","VersionStage":"AWSCURRENT"}',
  ],
];
describe('default mask set on realistic lines', () => {
  it.each(pos)('masks %s: %s', (_kind, line, secret) => {
    const out = m.maskString(line);
    expect(out).not.toContain(secret);
    expect(out).toContain('****');
  });
  it.each(neg)('leaves %s lines unchanged: %s', (_kind, line) => {
    expect(m.maskString(line)).toBe(line);
  });
  it('keeps the team and channel ids of a Slack webhook URL', () => {
    expect(
      m.maskString('POST https://hooks.slack.com/services/T0ABC1234/B0DEF5678/aBcDeFgHiJkLmNoPqRsTuVwX'),
    ).toBe('POST https://hooks.slack.com/services/T0ABC1234/B0DEF5678/****');
  });
});
