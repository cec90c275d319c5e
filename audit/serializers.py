"""The shape of one audit entry (`GET audit`), for the OpenAPI schema."""

from rest_framework import serializers


class AuditActorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.CharField()


class AuditChangeSerializer(serializers.Serializer):
    # auditlog keeps values as text; null where there was none.
    to = serializers.CharField(allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(allow_null=True)
        return fields


class AuditEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    entity = serializers.CharField()
    entityId = serializers.IntegerField(allow_null=True)
    action = serializers.ChoiceField(choices=["create", "update", "delete", "access"])
    actor = AuditActorSerializer(allow_null=True)
    at = serializers.DateTimeField()
    changes = serializers.DictField(child=AuditChangeSerializer())
