"""The sign-in pages: Viewflow's, with the profile page closed to uploads (its avatar form
would let anyone write files into the media folder beside the case attachments)."""

from viewflow.contrib import auth


class ProfileView(auth.ProfileView):
    http_method_names = ["get", "head", "options"]


class AccountsViewset(auth.AuthViewset):
    profile_view_class = ProfileView
