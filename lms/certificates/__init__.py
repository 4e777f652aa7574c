"""Certificates: templates, PDF certificates with a verification code and QR, verification,
expiry, recertification, revocation and reissue."""
