<#
.SYNOPSIS
    Brings the facts of en-US/Molt.PowerShell.dll-Help.xml in line with the built cmdlets.
.DESCRIPTION
    The descriptions are written by hand; what the code decides is taken from the code, so it cannot drift: for every
    parameter, whether it is required, its position, pipeline input, wildcards (globbing) and its default value (read
    from a new instance of the cmdlet); for every cmdlet, its input types. -Check changes nothing and lists what is
    out of date, exiting 1 when anything is (tests/Pester/Module.Tests.ps1 runs it).
#>
[CmdletBinding()]
param([switch] $Check)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = Split-Path -Parent $PSScriptRoot
$helpPath = Join-Path $root 'en-US' 'Molt.PowerShell.dll-Help.xml'
Import-Module (Join-Path $root 'out' 'Molt' 'Molt.psd1') -Force

$xml = [xml]::new()
$xml.PreserveWhitespace = $true
$xml.Load($helpPath)
$ns = [System.Xml.XmlNamespaceManager]::new($xml.NameTable)
$ns.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
$ns.AddNamespace('maml', 'http://schemas.microsoft.com/maml/2004/10')
$ns.AddNamespace('dev', 'http://schemas.microsoft.com/maml/dev/2004/10')
$stale = [System.Collections.Generic.List[string]]::new()
# Defaults that depend on the machine running Molt, said in words.
$machineDefaults = @{ 'Start-MoltBulkLoad -ShardsPerTable' = 'the processor count, from 2 to 4' }

function Set-Fact($Element, [string] $Attribute, [string] $Value, [string] $Where) {
    if ($Element.GetAttribute($Attribute) -cne $Value) {
        $stale.Add("$Where $Attribute='$($Element.GetAttribute($Attribute))' should be '$Value'")
        $Element.SetAttribute($Attribute, $Value)
    }
}

function Get-DefaultText($Instance, [string] $Name) {
    $property = $Instance.GetType().GetProperty($Name)
    if (-not $property) { return $null }
    $value = $property.GetValue($Instance)
    if ($null -eq $value -or $value -is [System.Management.Automation.SwitchParameter] -or $value -is [bool]) { return $null }
    if ($value -is [string] -and $value.Length -eq 0) { return $null }
    if ($value -is [System.Collections.IEnumerable] -and $value -isnot [string]) { return (@($value) -join ', ') }
    if ($value -is [double] -and $value -eq 0) { return '0' }
    "$value"
}

foreach ($commandNode in $xml.SelectNodes('//command:command', $ns)) {
    $name = $commandNode.SelectSingleNode('command:details/command:name', $ns).InnerText
    $command = Get-Command $name
    $instance = [Activator]::CreateInstance($command.ImplementingType)
    $pipelineInputs = [System.Collections.Generic.List[string]]::new()
    foreach ($parameterNode in $commandNode.SelectNodes('command:parameters/command:parameter', $ns)) {
        $parameterName = $parameterNode.SelectSingleNode('maml:name', $ns).InnerText
        $parameter = $command.Parameters[$parameterName]
        if (-not $parameter) { $stale.Add("$name -$parameterName is documented but does not exist"); continue }
        $sets = @($parameter.ParameterSets.Values)
        $position = @($sets | Where-Object Position -GE 0 | Select-Object -First 1)
        $byValue = [bool] ($sets | Where-Object ValueFromPipeline)
        $byName = [bool] ($sets | Where-Object ValueFromPipelineByPropertyName)
        $pipeline = switch ($true) {
            ($byValue -and $byName) { 'true (ByValue, ByPropertyName)'; break }
            $byValue { 'true (ByValue)'; break }
            $byName { 'true (ByPropertyName)'; break }
            default { 'false' }
        }
        $where = "$name -$parameterName"
        Set-Fact $parameterNode 'required' ([string] [bool] ($sets | Where-Object IsMandatory)).ToLowerInvariant() $where
        Set-Fact $parameterNode 'position' $(if ($position) { [string] $position[0].Position } else { 'named' }) $where
        Set-Fact $parameterNode 'pipelineInput' $pipeline $where
        $wildcards = [bool] ($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
        Set-Fact $parameterNode 'globbing' ([string] $wildcards).ToLowerInvariant() $where
        if ($pipeline -ne 'false') { $pipelineInputs.Add("$($parameter.ParameterType.FullName)|$parameterName|$($pipeline -replace '^true \((.*)\)$', '$1')") }

        $default = if ($machineDefaults.ContainsKey($where)) { $machineDefaults[$where] } else { Get-DefaultText $instance $parameterName }
        $defaultNode = $parameterNode.SelectSingleNode('dev:defaultValue', $ns)
        if ($null -eq $default) {
            if ($defaultNode) { $stale.Add("$where has a default it does not have"); [void] $parameterNode.RemoveChild($defaultNode) }
        } elseif (-not $defaultNode -or $defaultNode.InnerText -cne $default) {
            $stale.Add("$where default should be '$default'")
            if (-not $defaultNode) {
                $defaultNode = $xml.CreateElement('dev', 'defaultValue', $ns.LookupNamespace('dev'))
                $value = $parameterNode.SelectSingleNode('command:parameterValue', $ns)
                [void] $parameterNode.InsertAfter($defaultNode, $value)
                [void] $parameterNode.InsertBefore($xml.CreateWhitespace("`n        "), $defaultNode)
            }
            $defaultNode.InnerText = $default
        }
    }

    $inputsText = if ($pipelineInputs.Count -eq 0) { 'None' } else {
        ($pipelineInputs | Group-Object { $_.Split('|')[0] } | ForEach-Object {
            "$($_.Name): " + (($_.Group | ForEach-Object { $parts = $_.Split('|'); "$($parts[1]) ($($parts[2]))" }) -join ', ')
        }) -join '; '
    }
    $inputs = $commandNode.SelectSingleNode('command:inputTypes', $ns)
    $current = if ($inputs) { $inputs.SelectSingleNode('command:inputType/dev:type/maml:name', $ns).InnerText } else { $null }
    if ($current -cne $inputsText) {
        $stale.Add("$name input types should be '$inputsText'")
        if ($inputs) { [void] $commandNode.RemoveChild($inputs) }
        $element = { param($prefix, $local) $xml.CreateElement($prefix, $local, $ns.LookupNamespace($prefix)) }
        $inputs = & $element command inputTypes
        $inputType = & $element command inputType
        $type = & $element dev type
        $typeName = & $element maml name
        $typeName.InnerText = $inputsText
        [void] $type.AppendChild($typeName)
        [void] $inputType.AppendChild($type)
        [void] $inputs.AppendChild($inputType)
        $returns = $commandNode.SelectSingleNode('command:returnValues', $ns)
        [void] $commandNode.InsertBefore($inputs, $returns)
        [void] $commandNode.InsertBefore($xml.CreateWhitespace("`n    "), $returns)
    }
}

if ($Check) {
    $stale | ForEach-Object { "stale: $_" }
    if ($stale.Count -gt 0) { exit 1 }
    return
}
$writer = [System.Xml.XmlWriter]::Create($helpPath, [System.Xml.XmlWriterSettings]@{ Encoding = [System.Text.UTF8Encoding]::new($false) })
try { $xml.Save($writer) } finally { $writer.Dispose() }
"$($stale.Count) facts updated in $helpPath"
