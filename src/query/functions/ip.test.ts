import { describe, expect, it } from 'vitest';
import { isIpInSubnet, isIpv4InSubnet, isIpv6InSubnet, isValidIp, isValidIpV4, isValidIpV6 } from './ip.js';

describe('CIDR prefixes', () => {
  it('refuses a subnet whose prefix is not plain decimal digits (an empty one is not /0)', () => {
    // Regression: Number('') is 0, so '10.0.0.0/' matched every address.
    for (const subnet of [
      '10.0.0.0/',
      '10.0.0.0/ 8',
      '10.0.0.0/0x8',
      '10.0.0.0/8.0',
      '10.0.0.0/1e1',
      '10.0.0.0/-0',
    ]) {
      expect(isIpv4InSubnet('8.8.8.8', subnet), subnet).toBe(false);
      expect(isIpInSubnet('10.1.2.3', subnet), subnet).toBe(false);
    }
    expect(isIpv6InSubnet('2001:db8::1', '2001:db8::/')).toBe(false);
    expect(isIpv6InSubnet('2001:db8::1', '::/')).toBe(false);
  });

  it('takes the documented forms: a prefix 0…32 / 0…128, or a bare address as a host', () => {
    expect(isIpv4InSubnet('10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(isIpv4InSubnet('10.0.0.5', '10.0.0.5/32')).toBe(true);
    expect(isIpv4InSubnet('10.0.0.6', '10.0.0.5/32')).toBe(false);
    expect(isIpv4InSubnet('8.8.8.8', '0.0.0.0/0')).toBe(true);
    expect(isIpv4InSubnet('10.0.0.5', '10.0.0.5')).toBe(true);
    expect(isIpv4InSubnet('10.0.0.5', '10.0.0.0/33')).toBe(false);
    // Host bits set in the network address are ignored, as with any CIDR match.
    expect(isIpv4InSubnet('10.200.0.1', '10.0.0.1/8')).toBe(true);
    expect(isIpv6InSubnet('2001:db8::1', '::/0')).toBe(true);
    expect(isIpv6InSubnet('2001:DB8:0:0:0:0:0:1', '2001:db8::/32')).toBe(true);
    expect(isIpv6InSubnet('2001:db8::1', '2001:db8::1/128')).toBe(true);
    expect(isIpv6InSubnet('2001:db8::2', '2001:db8::1/128')).toBe(false);
    expect(isIpv6InSubnet('2001:db8::1', '2001:db8::/129')).toBe(false);
    expect(isIpv6InSubnet('fe80::1%eth0', 'fe80::/10')).toBe(true);
  });
});

describe('validity', () => {
  it('IPv6 forms', () => {
    for (const ok of [
      '::',
      '::1',
      '1::',
      '1:2:3:4:5:6:7:8',
      '::ffff:1.2.3.4',
      '2001:DB8::1',
      'fe80::1%eth0',
    ]) {
      expect(isValidIpV6(ok), ok).toBe(true);
      expect(isValidIp(ok), ok).toBe(true);
    }
    for (const bad of [
      '2001:db8::1::2',
      '1:2:3:4:5:6:7:8:9',
      '12345::1',
      '1::1.2.3.4:5',
      ':1',
      '1.2.3.4',
      '',
    ]) {
      expect(isValidIpV6(bad), bad).toBe(false);
    }
  });

  it('IPv4 forms', () => {
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', ' 1.2.3.4', '01.2.3.4', '1.2.3.4/24']) {
      expect(isValidIpV4(bad), bad).toBe(false);
    }
    expect(isValidIpV4('255.255.255.255')).toBe(true);
  });
});
