"""The API token endpoint, POST /api/v1/auth/token/: password, the sign-in's lockout, and the
second factor for those who sign in with one (accounts/tokens.py, accounts/two_factor.py)."""

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import two_factor
from accounts.lockout import API_TOKEN, is_locked_out, lockout_message
from accounts.tokens import token_expires_at, token_issue


class TokenRequest(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=1024, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        max_length=12,
        required=False,
        allow_blank=True,
        help_text="The 6-digit code of the authenticator app, for a user who signs in with two factors.",
    )


TokenResponse = inline_serializer(
    "TokenResponse", fields={"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
)


class FieldRefused(Exception):
    def __init__(self, errors: dict):
        self.errors = errors


def _second_factor(user, code: str, request) -> None:
    device = two_factor.confirmed_device(user)
    if device is None:
        if two_factor.two_factor_required(user):
            roles = ", ".join(two_factor.required_roles_of(user))
            message = f"Your role ({roles}) signs in with two factors: set up an authenticator at /account/two-factor/."
            raise FieldRefused({"otp": [message]})
        return
    if not code:
        raise FieldRefused(
            {"otp": ["This account signs in with two factors: send the 6-digit code of your app as 'otp'."]}
        )
    try:
        two_factor.code_verify(user=user, device=device, code=code, request=request, field="otp", detail="API token")
    except DjangoValidationError as refused:
        raise FieldRefused(refused.message_dict) from refused


class TokenObtainView(APIView):
    """Exchange a username and password (and, where required, a one-time code) for an API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=TokenRequest,
        responses={200: TokenResponse},
        summary="Obtain an API token",
        description="The token lasts API_TOKEN_HOURS (24 by default) from its issue; a changed password or a "
        "deactivated account revokes it. Five wrong passwords lock the username from this address for 30 minutes "
        "(429), as at the sign-in page.",
    )
    def post(self, request):
        given = TokenRequest(data=request.data)
        given.is_valid(raise_exception=True)
        username, password = given.validated_data["username"], given.validated_data["password"]
        user = authenticate(request=request, username=username, password=password, purpose=API_TOKEN)
        if user is None:
            if is_locked_out(request, username):
                return Response({"detail": lockout_message(username)}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            return Response(
                {"non_field_errors": ["Unable to sign in with this username and password."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            _second_factor(user, given.validated_data.get("otp", ""), request)
        except FieldRefused as refused:
            return Response(refused.errors, status=status.HTTP_400_BAD_REQUEST)
        token = token_issue(user=user, request=request)
        return Response({"token": token.key, "expires_at": token_expires_at(token)})
