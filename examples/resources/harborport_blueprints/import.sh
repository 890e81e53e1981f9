# Import by the identifier of the artifact blueprint; its relations lead to the
# repository and project blueprints, and the user blueprint is harborUser.
terraform import harborport_blueprints.harbor harborArtifact

# Or name every blueprint explicitly.
terraform import harborport_blueprints.custom 'project=registryProject,user=harborUser,repository=harborRepository,artifact=harborArtifact'
