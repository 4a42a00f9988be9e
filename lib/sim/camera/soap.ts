/** SOAP 1.2 envelopes and ONVIF faults written by the virtual camera. */
import { escapeXml } from './xml';

export const NS = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tptz: 'http://www.onvif.org/ver20/ptz/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  ter: 'http://www.onvif.org/ver10/error',
};

export function envelope(body: string): string {
  const xmlns = Object.entries(NS)
    .map(([p, uri]) => `xmlns:${p}="${uri}"`)
    .join(' ');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope ${xmlns}><env:Body>${body}</env:Body></env:Envelope>`;
}

/** An ONVIF fault: HTTP status, SOAP code (Sender/Receiver), ter: subcodes and a reason. */
export class SoapFault extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: 'Sender' | 'Receiver',
    readonly subcodes: string[],
    reason: string,
  ) {
    super(reason);
  }

  toXml(): string {
    let sub = '';
    for (let i = this.subcodes.length - 1; i >= 0; i--) {
      sub = `<env:Subcode><env:Value>ter:${this.subcodes[i]}</env:Value>${sub}</env:Subcode>`;
    }
    return envelope(
      `<env:Fault><env:Code><env:Value>env:${this.code}</env:Value>${sub}</env:Code>` +
        `<env:Reason><env:Text xml:lang="en">${escapeXml(this.message)}</env:Text></env:Reason></env:Fault>`,
    );
  }
}

export const faults = {
  notAuthorized: (reason = 'Sender not authorized') => new SoapFault(400, 'Sender', ['NotAuthorized'], reason),
  invalidArg: (sub: string, reason: string) => new SoapFault(400, 'Sender', ['InvalidArgVal', sub], reason),
  notSupported: (reason: string) => new SoapFault(500, 'Receiver', ['ActionNotSupported'], reason),
  unknownAction: (action: string) => new SoapFault(400, 'Sender', ['ActionNotSupported'], `Unknown action ${action}`),
  wellFormed: (reason: string) => new SoapFault(400, 'Sender', ['WellFormed'], `Malformed request: ${reason}`),
};
