/**
 * Plain words for why a connection to an MQTT broker failed. Node-RED's core mqtt-broker node
 * logs only "Connection failed to broker: mqtts://…" and drops the client's error, so a broker
 * whose TLS certificate the gateway does not trust, an expired certificate and a wrong host
 * name all read the same. These words name the fault and what City IT can do about it.
 */

/** Node's codes for a certificate chain that does not end at an authority this machine trusts. */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** Network faults before any TLS or MQTT: what each means for the broker's address. */
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'nothing accepts connections at that address and port (connection refused): check the port, and that the broker runs',
  ENOTFOUND: "the broker's host name is not known to this machine's DNS: check the name in VIGIE_MQTT_HOST and the DNS",
  EAI_AGAIN: "the broker's host name could not be looked up (DNS not answering): check this machine's DNS",
  ETIMEDOUT: 'the broker did not answer (timed out): check the address, the route and any firewall',
  EHOSTUNREACH: 'no route to the broker: check the address, the route and any firewall',
  ENETUNREACH: 'no route to the broker (network unreachable): check this machine\'s network',
  ECONNRESET: 'the connection was closed at once (the broker stopping or starting, something on the way, or a port that expects TLS, mqtts://, or plain MQTT, mqtt://, the other way round)',
};

/**
 * A fault of the network before any login (refused, reset, unreachable, DNS): also what an
 * ordinary outage gives, so it is for the log, not a warning; a certificate or a login refused
 * is the setting to mend.
 */
export function isNetworkFault(err: unknown, opts: { afterLogin?: boolean } = {}): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && code in NETWORK_WORDS && !opts.afterLogin;
}

interface ConnectError {
  code?: unknown;
  message?: unknown;
  host?: unknown;
  /** The certificate, on a host-name mismatch. */
  cert?: { subjectaltname?: unknown; subject?: { CN?: unknown } };
}

/**
 * Why a connection to the broker failed, in words City IT can act on, ending with the
 * system's own code or message in brackets; undefined for something that is no error.
 * `afterLogin`: the broker had accepted the login on that connection.
 */
export function mqttConnectFaultWords(err: unknown, opts: { afterLogin?: boolean } = {}): string | undefined {
  if (err === null || err === undefined) return undefined;
  const e = (typeof err === 'object' ? err : { message: String(err) }) as ConnectError;
  const code = e.code;
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof code === 'string') {
    if (UNTRUSTED_CODES.has(code))
      return `the broker's TLS certificate is not signed by an authority this machine trusts: if the city runs its own authority, give its certificate to Node-RED in NODE_EXTRA_CA_CERTS; otherwise this may not be the city's broker (${code})`;
    if (code === 'CERT_HAS_EXPIRED')
      return `the broker's TLS certificate has expired: have it renewed on the broker, or, if it should still be valid, check this machine's clock (${code})`;
    if (code === 'CERT_NOT_YET_VALID')
      return `the broker's TLS certificate is not valid yet: check this machine's clock (NTP) (${code})`;
    if (code === 'CERT_REVOKED') return `the broker's TLS certificate has been revoked: have it replaced on the broker (${code})`;
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      const altNames = e.cert?.subjectaltname;
      const commonName = e.cert?.subject?.CN;
      const names = typeof altNames === 'string' && altNames ? altNames : typeof commonName === 'string' ? `CN ${commonName}` : '';
      const host = typeof e.host === 'string' ? ` "${e.host}"` : '';
      return `the broker's TLS certificate is not made out for the host name${host} this machine connects to${names ? ` (it names ${names})` : ''}: give VIGIE_MQTT_HOST a name the certificate names, or have the certificate reissued with this one (${code})`;
    }
    if (code === 'EPROTO' || code.startsWith('ERR_SSL_'))
      return `the TLS handshake with the broker failed: check that this port expects TLS (mqtts://, usually 8883; plain MQTT is mqtt://, usually 1883) (${code}: ${message})`;
    // Closed once the login was accepted: no address or TLS fault, the broker put the client off.
    if (opts.afterLogin && (code === 'ECONNRESET' || code === 'EPIPE'))
      return `the broker closed the connection after accepting the login: another client taking over the same client id, or a message over the broker's packet size limit (which the MQTT client sends again at each reconnect), are the usual causes; the broker's log says which (${code})`;
    const network = NETWORK_WORDS[code];
    if (network) return `${network} (${code})`;
  }
  // The broker's own refusal of the login (CONNACK), already in words: "Connection refused: Not authorized".
  if (typeof code === 'number' && /^Connection refused/.test(message)) {
    const hint = code === 4 || code === 134 ? ': check VIGIE_MQTT_USER and VIGIE_MQTT_PASSWORD' : code === 5 || code === 135 ? ': check the account and the broker\'s ACL' : code === 2 || code === 133 ? ': the broker refuses this client id' : '';
    return `the broker refused the login (${message})${hint}`;
  }
  if (message === 'TLS not authorized') return "the broker's TLS certificate could not be verified (TLS not authorized)";
  return message;
}
