import { API_SECURITY_HEADERS, DOCS_SECURITY_HEADERS, securityHeaders } from './security-headers.js';

describe('securityHeaders', () => {
  it('computes helmet’s headers for the JSON API: nothing may load, frame or submit, no HSTS on plain HTTP', () => {
    // Act
    const sut = securityHeaders(API_SECURITY_HEADERS);

    // Assert
    expect(sut['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'");
    expect(sut['x-content-type-options']).toBe('nosniff');
    expect(sut['x-frame-options']).toBe('SAMEORIGIN');
    expect(sut['referrer-policy']).toBe('no-referrer');
    expect(sut['cross-origin-resource-policy']).toBe('same-origin');
    expect(sut).not.toHaveProperty('strict-transport-security');
    expect(sut).not.toHaveProperty('x-powered-by');
    expect(Object.keys(sut).sort()).toEqual([
      'content-security-policy',
      'cross-origin-resource-policy',
      'referrer-policy',
      'x-content-type-options',
      'x-frame-options',
    ]);
  });

  it('lets the Swagger UI page load its own scripts and styles', () => {
    // Act
    const sut = securityHeaders(DOCS_SECURITY_HEADERS);

    // Assert
    expect(sut['content-security-policy']).toContain("script-src 'self'");
    expect(sut['content-security-policy']).toContain("style-src 'self'");
    expect(sut['x-content-type-options']).toBe('nosniff');
  });
});
