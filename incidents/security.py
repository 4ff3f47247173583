from django.conf import settings


def client_ip(request):
    """The client's address, for login rate limiting.

    Behind our reverse proxy (DJANGO_BEHIND_PROXY=1) that is the last address the proxy
    appended to X-Forwarded-For; earlier entries come from the client and can be forged.
    """
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")
