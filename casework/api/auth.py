"""Token authentication that reads the caller's scopes once per read-only call.

A token caller is authenticated by DRF inside the view, after the middleware that starts the
per-request memo of scopes (config.middleware.ScopeMemoMiddleware) has seen an anonymous
visitor; this starts it for them, on a GET or HEAD only, as the middleware does for a
signed-in session (casework.permissions.remember_scopes). The user object is the one knox
loaded for this call: the memo goes with it.
"""

from knox.auth import TokenAuthentication as KnoxTokenAuthentication

from casework import permissions


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and request.method in ("GET", "HEAD"):
            permissions.remember_scopes(result[0])
        return result
