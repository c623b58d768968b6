"""The declared Python shape of every Plugin API method.

Each RPC maps to ``(params, result)``:

* ``params`` is how many leading request fields, in field-number order, are
  the parameters of the upstream Go method. They become positional
  parameters. Every later field is keyword-only with a default, so that a
  field added to a request never breaks a caller.
* ``result`` names the response field that the method returns, as the Go
  method returns one value; ``None`` means the method returns None, and
  :data:`RESPONSE` that it returns the whole response message. A declared
  field keeps the return type when fields are added to the response.

generate_clients.py refuses an RPC that has no entry here, an entry with no
RPC, and an entry that does not fit its messages, so that every shape is a
choice made once, in review.
"""

from __future__ import annotations

#: ``result`` value: return the whole response message.
RESPONSE = "*"

#: Uploads, the client-streaming RPCs: their request is a head message and
#: then chunks of data. The method takes the data as one parameter, named
#: and placed as upstream's Go method has it, beside the head's fields, all
#: positional; it returns the named response field.
UPLOADS: dict[str, tuple[str, int, str]] = {
    "UploadFile": ("data", 0, "file_info"),
    "UploadData": ("data", 1, "file_info"),
    "ReceiveSharedChannelAttachmentSyncMsg": ("data", 3, "file_info"),
    "InstallPlugin": ("file", 0, "manifest"),
}

#: Exchanges, the bidirectional RPCs: a head and a body go out in chunks,
#: and a head and a body come back. The method takes the request head as
#: its first parameter and the body (as an upload's data) as its second,
#: named here, and returns an HTTP response whose body streams.
EXCHANGES: dict[str, str] = {
    "PluginHTTP": "body",
}

#: Fills: unary RPCs that return settings, which the method decodes into a
#: type of the caller's, as upstream's LoadPluginConfiguration decodes into
#: a Go struct. The value names the destination parameter: a dataclass
#: (class or instance), a TypedDict class or a dict.
FILLS: dict[str, str] = {
    "LoadPluginConfiguration": "dest",
}

#: JSON models: models whose named string fields carry JSON text, as
#: upstream's json.RawMessage does. The SDK gives each as a dataclass (in
#: models.py) whose JSON fields hold any JSON value, and converts it to and
#: from its message on the wire; empty text reads as None and None is sent
#: as empty text.
JSON_MODELS: dict[str, tuple[str, ...]] = {
    "PropertyValue": ("value",),
    "PropertyValueSearchOpts": ("value",),
}

#: Downloads, the server-streaming RPCs, whose responses are chunks of
#: data. Each gives two methods: one that returns the data as bytes, as
#: upstream does, and ``<name>_stream``, which returns the chunks as they
#: arrive. The value is how many request fields are positional.
DOWNLOADS: dict[str, int] = {
    "GetFile": 1,
    "ReadFile": 1,
}

SIGNATURES: dict[str, tuple[int, str | None]] = {
    # config
    "GetServerVersion": (0, "version"),
    "GetConfig": (0, "config"),
    "GetUnsanitizedConfig": (0, "config"),
    "SaveConfig": (1, None),
    "GetLicense": (0, "license"),
    "IsEnterpriseReady": (0, "is_enterprise_ready"),
    "GetSystemInstallDate": (0, "install_date"),
    "GetDiagnosticId": (0, "diagnostic_id"),
    "GetTelemetryId": (0, "telemetry_id"),
    "RequestTrialLicense": (4, None),
    "GetCloudLimits": (0, "limits"),
    # kv
    "KVSet": (2, None),
    "KVGet": (1, "value"),
    "KVDelete": (1, None),
    "KVDeleteAll": (0, None),
    "KVSetWithExpiry": (3, None),
    "KVCompareAndSet": (3, "success"),
    "KVCompareAndDelete": (2, "success"),
    "KVSetWithOptions": (3, "success"),
    "KVList": (2, "keys"),
    # users
    "CreateUser": (1, "user"),
    "DeleteUser": (1, None),
    "GetUsers": (1, "users"),
    "GetUsersByIds": (1, "users"),
    "GetUser": (1, "user"),
    "GetUserByEmail": (1, "user"),
    "GetUserByUsername": (1, "user"),
    "GetUsersByUsernames": (1, "users"),
    "UpdateUser": (1, "user"),
    "GetUsersInTeam": (3, "users"),
    "GetUsersInChannel": (4, "users"),
    "GetUserStatus": (1, "status"),
    "GetUserStatusesByIds": (1, "statuses"),
    "UpdateUserStatus": (2, "status"),
    "SetUserStatusTimedDND": (2, "status"),
    "UpdateUserActive": (2, None),
    "UpdateUserCustomStatus": (2, None),
    "RemoveUserCustomStatus": (1, None),
    "GetLDAPUserAttributes": (2, "attributes"),
    "SearchUsers": (1, "users"),
    "GetProfileImage": (1, "data"),
    "SetProfileImage": (2, None),
    "UpdateUserAuth": (2, "user_auth"),
    "UpdateUserRoles": (2, "user"),
    # channels
    "CreateChannel": (1, "channel"),
    "DeleteChannel": (1, None),
    "RestoreChannel": (1, None),
    "GetChannelOfType": (2, "channel"),
    "GetPublicChannelsForTeam": (3, "channels"),
    "GetChannel": (1, "channel"),
    "GetChannelByName": (3, "channel"),
    "GetChannelByNameForTeamName": (3, "channel"),
    "GetChannelsForTeamForUser": (3, "channels"),
    "GetChannelStats": (1, "channel_stats"),
    "GetDirectChannel": (2, "channel"),
    "GetGroupChannel": (1, "channel"),
    "UpdateChannel": (1, "channel"),
    "RegisterChannelGuard": (1, None),
    "UnregisterChannelGuard": (1, None),
    "SearchChannels": (2, "channels"),
    "AddChannelMember": (2, "channel_member"),
    "AddUserToChannel": (3, "channel_member"),
    "GetChannelMember": (2, "channel_member"),
    "GetChannelMembers": (3, "channel_members"),
    "GetChannelMembersByIds": (2, "channel_members"),
    "GetChannelMembersForUser": (4, "channel_members"),
    "UpdateChannelMemberRoles": (3, "channel_member"),
    "UpdateChannelMemberNotifications": (3, "channel_member"),
    "PatchChannelMembersNotifications": (2, None),
    "DeleteChannelMember": (2, None),
    "AddChannelsToRetentionPolicy": (2, None),
    "RemoveChannelsFromRetentionPolicy": (2, None),
    # sessions
    "GetSession": (1, "session"),
    "CreateSession": (1, "session"),
    "ExtendSessionExpiry": (2, None),
    "RevokeSession": (1, None),
    "CreateUserAccessToken": (1, "token"),
    "RevokeUserAccessToken": (1, None),
    # permissions
    "HasPermissionTo": (2, "has_permission"),
    "HasPermissionToTeam": (3, "has_permission"),
    "HasPermissionToChannel": (3, "has_permission"),
    "RolesGrantPermission": (2, "granted"),
    # posts
    "CreatePost": (1, "post"),
    "DeletePost": (1, None),
    "GetPostThread": (1, "post_list"),
    "GetPost": (1, "post"),
    "GetPostsSince": (2, "post_list"),
    "GetPostsAfter": (4, "post_list"),
    "GetPostsBefore": (4, "post_list"),
    "GetPostsForChannel": (3, "post_list"),
    "UpdatePost": (1, "post"),
    "SearchPostsInTeam": (2, "posts"),
    "SearchPostsInTeamForUser": (3, "results"),
    "SendEphemeralPost": (2, "post"),
    "UpdateEphemeralPost": (2, "post"),
    "DeleteEphemeralPost": (2, None),
    "MoveThreadsToBackingChannel": (2, None),
    # reactions
    "AddReaction": (1, "reaction"),
    "RemoveReaction": (1, None),
    "GetReactions": (1, "reactions"),
    # sidebar
    "CreateChannelSidebarCategory": (3, "category"),
    "GetChannelSidebarCategories": (2, "categories"),
    "UpdateChannelSidebarCategories": (3, "categories"),
    # bots
    "CreateBot": (1, "bot"),
    "PatchBot": (2, "bot"),
    "GetBot": (2, "bot"),
    "GetBots": (1, "bots"),
    "UpdateBotActive": (2, "bot"),
    "PermanentDeleteBot": (1, None),
    "EnsureBotUser": (1, "bot_user_id"),
    # oauth
    "CreateOAuthApp": (1, "app"),
    "GetOAuthApp": (1, "app"),
    "UpdateOAuthApp": (1, "app"),
    "DeleteOAuthApp": (1, None),
    # commands
    "RegisterCommand": (1, None),
    "UnregisterCommand": (2, None),
    "ExecuteSlashCommand": (1, "response"),
    "CreateCommand": (1, "command"),
    "ListCommands": (1, "commands"),
    "ListCustomCommands": (1, "commands"),
    "ListPluginCommands": (1, "commands"),
    "ListBuiltInCommands": (0, "commands"),
    "GetCommand": (1, "command"),
    "UpdateCommand": (2, "command"),
    "DeleteCommand": (1, None),
    # frontend
    "PublishWebSocketEvent": (3, None),
    "OpenInteractiveDialog": (1, None),
    "SendToastMessage": (4, None),
    "PublishUserTyping": (3, None),
    # notifications
    "SendMail": (3, None),
    "SendPushNotification": (2, None),
    # cluster
    "PublishPluginClusterEvent": (2, None),
    # audit
    "LogAuditRec": (1, None),
    "LogAuditRecWithLevel": (2, None),
    # emoji
    "GetEmojiList": (3, "emojis"),
    "GetEmojiByName": (1, "emoji"),
    "GetEmoji": (1, "emoji"),
    "GetEmojiImage": (1, RESPONSE),
    # plugins
    "LoadPluginConfiguration": (0, "configuration"),
    "GetPluginConfig": (0, "config"),
    "SavePluginConfig": (1, None),
    "GetBundlePath": (0, "path"),
    "GetPlugins": (0, "manifests"),
    "EnablePlugin": (1, None),
    "DisablePlugin": (1, None),
    "RemovePlugin": (1, None),
    "GetPluginStatus": (1, "status"),
    "RegisterCollectionAndTopic": (2, None),
    "GetPluginID": (0, "id"),
    # files
    "CopyFileInfos": (2, "file_ids"),
    "GetFileInfo": (1, "file_info"),
    "SetFileSearchableContent": (2, None),
    "GetFileInfos": (3, "file_infos"),
    "GetFileLink": (1, "link"),
    "CreateUploadSession": (1, "upload_session"),
    "GetUploadSession": (1, "upload_session"),
    # groups
    "GetGroup": (1, "group"),
    "GetGroupByName": (1, "group"),
    "GetGroupMemberUsers": (3, "users"),
    "GetGroupsBySource": (1, "groups"),
    "GetGroupsForUser": (1, "groups"),
    "UpsertGroupMember": (2, "group_member"),
    "UpsertGroupMembers": (2, "group_members"),
    "GetGroupByRemoteID": (2, "group"),
    "CreateGroup": (1, "group"),
    "UpdateGroup": (1, "group"),
    "DeleteGroup": (1, "group"),
    "RestoreGroup": (1, "group"),
    "DeleteGroupMember": (2, "group_member"),
    "GetGroupSyncable": (3, "group_syncable"),
    "GetGroupSyncables": (2, "group_syncables"),
    "UpsertGroupSyncable": (1, "group_syncable"),
    "UpdateGroupSyncable": (1, "group_syncable"),
    "DeleteGroupSyncable": (3, "group_syncable"),
    "GetGroups": (3, "groups"),
    "CreateDefaultSyncableMemberships": (1, None),
    "DeleteGroupConstrainedMemberships": (0, None),
    # shared channels
    "RegisterPluginForSharedChannels": (1, "remote_id"),
    "UnregisterPluginForSharedChannels": (1, None),
    "UnregisterPluginRemoteForSharedChannels": (1, None),
    "ShareChannel": (1, "shared_channel"),
    "UpdateSharedChannel": (1, "shared_channel"),
    "UnshareChannel": (1, "unshared"),
    "UpdateSharedChannelCursor": (3, None),
    "SyncSharedChannel": (1, None),
    "InviteRemoteToChannel": (4, None),
    "UninviteRemoteFromChannel": (2, None),
    "ReceiveSharedChannelSyncMsg": (2, "sync_response"),
    "ReceiveSharedChannelProfileImageSyncMsg": (3, None),
    # properties
    "CreatePropertyField": (1, "field"),
    "GetPropertyField": (2, "field"),
    "GetPropertyFields": (2, "fields"),
    "UpdatePropertyField": (2, "field"),
    "DeletePropertyField": (2, None),
    "SearchPropertyFields": (2, "fields"),
    "CountPropertyFields": (2, "count"),
    "CountPropertyFieldsForTarget": (4, "count"),
    "CreatePropertyValue": (1, "value"),
    "GetPropertyValue": (2, "value"),
    "GetPropertyValues": (2, "values"),
    "UpdatePropertyValue": (2, "value"),
    "UpsertPropertyValue": (1, "value"),
    "DeletePropertyValue": (2, None),
    "SearchPropertyValues": (2, "values"),
    "RegisterPropertyGroup": (1, "group"),
    "GetPropertyGroup": (1, "group"),
    "GetPropertyFieldByName": (3, "field"),
    "UpdatePropertyFields": (2, "fields"),
    "UpdatePropertyValues": (2, "values"),
    "UpsertPropertyValues": (1, "values"),
    "DeletePropertyValuesForTarget": (3, None),
    "DeletePropertyValuesForField": (2, None),
    "UpsertPropertyValuesWithOptions": (2, "values"),
    "UpsertPropertyValueWithOptions": (2, "value"),
    "DeletePropertyValueWithOptions": (3, None),
    "DeletePropertyValuesForTargetWithOptions": (4, None),
    "DeletePropertyValuesForFieldWithOptions": (3, None),
    # access control
    "EvaluateAccessControl": (4, "decision"),
    "SaveAccessControlPolicy": (2, "policy"),
    "GetAccessControlPolicy": (1, "policy"),
    "DeleteAccessControlPolicy": (3, None),
    "CheckAccessControlExpression": (3, "errors"),
    "QueryUsersForAccessControlExpression": (6, "result"),
    "GetAccessControlFieldsAutocomplete": (3, "fields"),
    "GetAccessControlVisualAST": (3, "visual_expression"),
    # preferences
    "GetPreferenceForUser": (3, "preference"),
    "GetPreferencesForUser": (1, "preferences"),
    "UpdatePreferencesForUser": (2, None),
    "DeletePreferencesForUser": (2, None),
    # teams
    "CreateTeam": (1, "team"),
    "DeleteTeam": (1, None),
    "GetTeams": (0, "teams"),
    "GetTeam": (1, "team"),
    "GetTeamByName": (1, "team"),
    "GetTeamsUnreadForUser": (1, "team_unreads"),
    "UpdateTeam": (1, "team"),
    "SearchTeams": (1, "teams"),
    "GetTeamsForUser": (1, "teams"),
    "CreateTeamMember": (2, "team_member"),
    "CreateTeamMembers": (3, "team_members"),
    "CreateTeamMembersGracefully": (3, "team_members"),
    "DeleteTeamMember": (3, None),
    "GetTeamMembers": (3, "team_members"),
    "GetTeamMember": (2, "team_member"),
    "GetTeamMembersForUser": (3, "team_members"),
    "UpdateTeamMemberRoles": (3, "team_member"),
    "GetTeamStats": (1, "team_stats"),
    "GetTeamIcon": (1, "data"),
    "SetTeamIcon": (2, None),
    "RemoveTeamIcon": (1, None),
    # logging
    "LogDebug": (2, None),
    "LogInfo": (2, None),
    "LogWarn": (2, None),
    "LogError": (2, None),
}
