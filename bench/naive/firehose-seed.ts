/**
 * Bench-only baseline: the seed's Firehose transformation as published (the "Process CloudWatch
 * logs sent to Kinesis Firehose" blueprint with the seed's `processRecords`): base64 → gunzip →
 * JSON.parse, `message + "\n"` joined, prefix by stream name, no validation, no size budget, no
 * re-ingest. Kept naive on purpose; never imported by src/.
 */
import { gunzipSync } from 'node:zlib';

interface InRecord {
  recordId: string;
  data: string;
}

interface LogEvent {
  message: string;
}

function loadJsonGzipBase64(base64Data: string) {
  return JSON.parse(gunzipSync(Buffer.from(base64Data, 'base64')).toString());
}

function transformLogEvent(logEvent: LogEvent): string {
  return `${logEvent.message}\n`;
}

function processRecords(records: InRecord[]) {
  return records.map((r) => {
    const data = loadJsonGzipBase64(r.data);
    const recId = r.recordId;
    if (data.messageType === 'CONTROL_MESSAGE') {
      return { result: 'Dropped', recordId: recId };
    } else if (data.messageType === 'DATA_MESSAGE') {
      const logGroupName = data.logGroup.replace(/\//g, '_');
      const logStreamName = data.logStream.replace(/\//g, '_');
      let prefix: string;
      if (logStreamName.startsWith('kube-apiserver-audit')) {
        prefix = `${logGroupName}/kube-apiserver-audit/${logStreamName}`;
      } else if (logStreamName.startsWith('kube-apiserver')) {
        prefix = `${logGroupName}/kube-apiserver/${logStreamName}`;
      } else if (logStreamName.startsWith('authenticator')) {
        prefix = `${logGroupName}/authenticator/${logStreamName}`;
      } else if (logStreamName.startsWith('kube-controller-manager')) {
        prefix = `${logGroupName}/kube-controller-manager/${logStreamName}`;
      } else if (logStreamName.startsWith('cloud-controller-manager')) {
        prefix = `${logGroupName}/cloud-controller-manager/${logStreamName}`;
      } else if (logStreamName.startsWith('kube-scheduler')) {
        prefix = `${logGroupName}/kube-scheduler/${logStreamName}`;
      } else {
        prefix = 'default';
      }
      const joinedData = data.logEvents.map((e: LogEvent) => transformLogEvent(e)).join('');
      const encodedData = Buffer.from(joinedData, 'utf-8').toString('base64');
      return {
        data: encodedData,
        result: 'Ok',
        recordId: recId,
        metadata: { partitionKeys: { object_prefix: prefix } },
      };
    } else {
      return { result: 'ProcessingFailed', recordId: recId };
    }
  });
}

export async function naiveSeedHandler(event: { records: InRecord[] }) {
  return { records: processRecords(event.records) };
}
