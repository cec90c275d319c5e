"""The admin site as a whole: the product's name, and only what an administrator works with.

Loaded by admin autodiscovery after every other app's admin module (the project package
is the last installed app), so the models unregistered here are already registered.
"""

from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

admin.site.site_header = "Doctors Portal administration"
admin.site.site_title = "Doctors Portal admin"
admin.site.index_title = "Clinic administration"

# Machinery nobody edits by hand: refresh tokens are ended by sign-out, reset and erasure
# (accounts.services); roles are a field of the user, not groups. axes' access attempts
# stay (deleting one unlocks an account or address), and so does its sign-in log.
HIDDEN = [OutstandingToken, BlacklistedToken, Group]
if not settings.AXES_ENABLE_ACCESS_FAILURE_LOG:
    HIDDEN.append(AccessFailureLog)  # never written while the failure log is off

for model in HIDDEN:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
