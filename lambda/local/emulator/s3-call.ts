/** S3 path-style requests (`/bucket/key`): what IAM authorizes for each. */
import {
  type Classified,
  decode,
  type HttpRequestHead,
  header,
  splitPath,
  Unclassified,
} from './sdk-request.js';

/** Bucket-level sub-resources: operation suffix, IAM action of GET, of PUT, of DELETE (PUT's when absent). */
const BUCKET_CONFIG: Readonly<Record<string, readonly [string, string, string, string?]>> = {
  policy: ['BucketPolicy', 'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy'],
  lifecycle: ['BucketLifecycleConfiguration', 'GetLifecycleConfiguration', 'PutLifecycleConfiguration'],
  notification: ['BucketNotificationConfiguration', 'GetBucketNotification', 'PutBucketNotification'],
  cors: ['BucketCors', 'GetBucketCORS', 'PutBucketCORS'],
  tagging: ['BucketTagging', 'GetBucketTagging', 'PutBucketTagging'],
  versioning: ['BucketVersioning', 'GetBucketVersioning', 'PutBucketVersioning'],
  encryption: ['BucketEncryption', 'GetEncryptionConfiguration', 'PutEncryptionConfiguration'],
  publicAccessBlock: ['PublicAccessBlock', 'GetBucketPublicAccessBlock', 'PutBucketPublicAccessBlock'],
  ownershipControls: ['BucketOwnershipControls', 'GetBucketOwnershipControls', 'PutBucketOwnershipControls'],
  acl: ['BucketAcl', 'GetBucketAcl', 'PutBucketAcl'],
  logging: ['BucketLogging', 'GetBucketLogging', 'PutBucketLogging'],
  website: ['BucketWebsite', 'GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite'],
  location: ['BucketLocation', 'GetBucketLocation', 'GetBucketLocation'],
  'object-lock': [
    'ObjectLockConfiguration',
    'GetBucketObjectLockConfiguration',
    'PutBucketObjectLockConfiguration',
  ],
};

/** Object request parameters that qualify an operation without naming one (presigned URLs' X-Amz-* included). */
const OBJECT_PARAMETERS =
  /^(x-id|versionId|partNumber|uploadId|max-parts|part-number-marker|response-.+|x-amz-.+)$/i;

const S3_CONTEXT_HEADERS = [
  'x-amz-acl',
  'x-amz-server-side-encryption',
  'x-amz-storage-class',
  'x-amz-copy-source',
  'x-amz-metadata-directive',
];

/** The operation and authorizations of an S3 request; adds its S3 condition keys to `context`. */
export function classifyS3(request: HttpRequestHead, context: Record<string, string>): Classified {
  const { pathname, query } = splitPath(request.path);
  const method = request.method.toUpperCase();
  const slash = pathname.indexOf('/', 1);
  const bucket = decode(slash < 0 ? pathname.slice(1) : pathname.slice(1, slash));
  const key = slash < 0 ? '' : decode(pathname.slice(slash + 1));
  const one = (operation: string, action: string, resource: string): Classified => ({
    operation,
    authorizations: [{ action: `s3:${action}`, resource }],
  });
  for (const name of S3_CONTEXT_HEADERS) {
    const value = header(request, name);
    if (value !== undefined) context[`s3:${name}`] = value;
  }
  if (!bucket) {
    if (method === 'GET') return one('ListBuckets', 'ListAllMyBuckets', '*');
    throw new Unclassified(`S3 ${method} / names no bucket`);
  }
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (!key) return classifyS3Bucket(method, query, bucketArn, request, context, one);

  const objectArn = `${bucketArn}/${key}`;
  const versionId = query.get('versionId');
  if (versionId) context['s3:versionid'] = versionId;
  const tagged = header(request, 'x-amz-tagging') !== undefined;
  const withTagging = (c: Classified): Classified =>
    tagged
      ? {
          ...c,
          authorizations: [...c.authorizations, { action: 's3:PutObjectTagging', resource: objectArn }],
        }
      : c;
  const copySource = header(request, 'x-amz-copy-source');
  const copying = (operation: string): Classified => ({
    operation,
    authorizations: [
      { action: 's3:PutObject', resource: objectArn },
      { action: 's3:GetObject', resource: copySourceArn(copySource!) },
    ],
  });
  // The sub-resource names the operation; the other parameters only qualify it.
  const sub = [...query.keys()].find((k) => !OBJECT_PARAMETERS.test(k));
  const upload = query.has('uploadId');
  switch (`${method} ${sub ?? ''}`) {
    case 'GET ':
    case 'HEAD ':
      if (upload) return one('ListParts', 'ListMultipartUploadParts', objectArn);
      return one(
        method === 'GET' ? 'GetObject' : 'HeadObject',
        versionId ? 'GetObjectVersion' : 'GetObject',
        objectArn,
      );
    case 'GET tagging':
      return one('GetObjectTagging', 'GetObjectTagging', objectArn);
    case 'GET acl':
      return one('GetObjectAcl', 'GetObjectAcl', objectArn);
    case 'GET attributes':
      return one('GetObjectAttributes', 'GetObjectAttributes', objectArn);
    case 'PUT ':
      if (upload) return copySource ? copying('UploadPartCopy') : one('UploadPart', 'PutObject', objectArn);
      return withTagging(copySource ? copying('CopyObject') : one('PutObject', 'PutObject', objectArn));
    case 'PUT tagging':
      return one('PutObjectTagging', 'PutObjectTagging', objectArn);
    case 'PUT acl':
      return one('PutObjectAcl', 'PutObjectAcl', objectArn);
    case 'POST uploads':
      return withTagging(one('CreateMultipartUpload', 'PutObject', objectArn));
    case 'POST ':
      if (upload) return one('CompleteMultipartUpload', 'PutObject', objectArn);
      break;
    case 'POST restore':
      return one('RestoreObject', 'RestoreObject', objectArn);
    case 'DELETE ':
      if (upload) return one('AbortMultipartUpload', 'AbortMultipartUpload', objectArn);
      return one('DeleteObject', versionId ? 'DeleteObjectVersion' : 'DeleteObject', objectArn);
    case 'DELETE tagging':
      return one('DeleteObjectTagging', 'DeleteObjectTagging', objectArn);
  }
  throw new Unclassified(
    `S3 ${method} on an object with query ${JSON.stringify(query.toString())} is not modelled`,
  );
}

function classifyS3Bucket(
  method: string,
  query: URLSearchParams,
  bucketArn: string,
  request: HttpRequestHead,
  context: Record<string, string>,
  one: (operation: string, action: string, resource: string) => Classified,
): Classified {
  if (method === 'POST' && query.has('delete')) {
    const keys = [...(request.body?.toString('utf8') ?? '').matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) =>
      unescapeXml(m[1] ?? ''),
    );
    if (keys.length === 0) throw new Unclassified('S3 DeleteObjects body names no <Key>');
    return {
      operation: 'DeleteObjects',
      authorizations: keys.map((k) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${k}` })),
    };
  }
  for (const [name, [suffix, get, put, del = put]] of Object.entries(BUCKET_CONFIG)) {
    if (!query.has(name)) continue;
    if (method === 'GET') return one(`Get${suffix}`, get, bucketArn);
    if (method === 'PUT') return one(`Put${suffix}`, put, bucketArn);
    if (method === 'DELETE') return one(`Delete${suffix}`, del, bucketArn);
  }
  if (method === 'GET' && query.has('versions'))
    return one('ListObjectVersions', 'ListBucketVersions', bucketArn);
  if (method === 'GET' && query.has('uploads'))
    return one('ListMultipartUploads', 'ListBucketMultipartUploads', bucketArn);
  const subresource = [...query.keys()].find(
    (k) =>
      ![
        'list-type',
        'prefix',
        'delimiter',
        'max-keys',
        'continuation-token',
        'start-after',
        'marker',
        'encoding-type',
        'fetch-owner',
        'x-id',
      ].includes(k),
  );
  if (subresource === undefined) {
    switch (method) {
      case 'GET': {
        for (const name of ['prefix', 'delimiter', 'max-keys']) {
          const value = query.get(name);
          if (value !== null) context[`s3:${name}`] = value;
        }
        return one(query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects', 'ListBucket', bucketArn);
      }
      case 'HEAD':
        return one('HeadBucket', 'ListBucket', bucketArn);
      case 'PUT':
        return one('CreateBucket', 'CreateBucket', bucketArn);
      case 'DELETE':
        return one('DeleteBucket', 'DeleteBucket', bucketArn);
    }
  }
  throw new Unclassified(
    `S3 ${method} on a bucket with query ${JSON.stringify(query.toString())} is not modelled`,
  );
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded. */
function copySourceArn(source: string): string {
  const path = decode(source.split('?')[0]!.replace(/^\//, ''));
  if (!path.includes('/')) throw new Unclassified(`x-amz-copy-source ${JSON.stringify(source)} names no key`);
  return `arn:aws:s3:::${path}`;
}

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    if (e[0] === '#')
      return String.fromCodePoint(
        e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)),
      );
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e.toLowerCase()]!;
  });
}
